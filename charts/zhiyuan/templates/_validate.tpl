{{/*
Cross-field checks the schema cannot express; fails with every problem at
once. Only enforced when installing, upgrading or templating: a bare
`helm lint` renders with neither flag set, so the chart's defaults (which hold
no endpoints and no keys, on purpose) still lint.
*/}}
{{- define "zhiyuan.validateValues" -}}
{{- if or .Release.IsInstall .Release.IsUpgrade -}}
{{- $v := .Values -}}
{{- $errors := list -}}
{{- $services := include "zhiyuan.services" . | fromJson -}}
{{- $need := dict -}}
{{- range $name, $svc := $services -}}
{{- range $role := $svc.roles -}}
{{- $r := get $svc $role -}}
{{- if has $role (list "api" "worker") -}}{{- $_ := set $need "amqp" true -}}{{- end -}}
{{- if $r.jwtPrivateKey -}}{{- $_ := set $need "jwtPrivateKey" true -}}{{- end -}}
{{- $where := printf "services.%s.%s" $name $role -}}
{{- if and $r.autoscaling.enabled (gt (int $r.autoscaling.minReplicas) (int $r.autoscaling.maxReplicas)) -}}
{{- $errors = append $errors (printf "%s.autoscaling: minReplicas is greater than maxReplicas" $where) -}}
{{- end -}}
{{- if and $r.autoscaling.enabled (not (or $r.autoscaling.targetCPU $r.autoscaling.targetMemory)) -}}
{{- $errors = append $errors (printf "%s.autoscaling: set targetCPU or targetMemory (or disable autoscaling)" $where) -}}
{{- end -}}
{{- if and $r.service.headless (ne $r.service.type "ClusterIP") -}}
{{- $errors = append $errors (printf "%s.service: headless needs type ClusterIP" $where) -}}
{{- end -}}
{{- end -}}
{{- if $svc.piiKey -}}{{- $_ := set $need "piiKey" true -}}{{- end -}}
{{- if and $svc.database.enabled (not $svc.database.host) (not $v.cloudnativepg.enabled) -}}
{{- $errors = append $errors (printf "postgresql.host: required (or services.%s.database.host)" $name) -}}
{{- end -}}
{{- end -}}
{{- if and $need.amqp (not $v.rabbitmq.host) (not $v.rabbitmqCluster.enabled) -}}
{{- $errors = append $errors "rabbitmq.host: required (the external RabbitMQ)" -}}
{{- end -}}
{{- $s := $v.secrets -}}
{{- if not $s.existingSecret -}}
{{- $hint := "(or set secrets.existingSecret)" -}}
{{- if not $s.jwtPublicKey -}}
{{- $errors = append $errors (printf "secrets.jwtPublicKey: required %s" $hint) -}}
{{- end -}}
{{- if and $need.jwtPrivateKey (not $s.jwtPrivateKey) -}}
{{- $errors = append $errors (printf "secrets.jwtPrivateKey: required by a role with jwtPrivateKey %s" $hint) -}}
{{- end -}}
{{- if and $s.piiKey (ne (len (b64dec $s.piiKey)) 32) -}}
{{- $errors = append $errors "secrets.piiKey: must be base64 of exactly 32 bytes (`openssl rand -base64 32`)" -}}
{{- end -}}
{{- if and $need.piiKey (not $s.piiKey) -}}
{{- $errors = append $errors (printf "secrets.piiKey: required by a service with piiKey; generate with `openssl rand -base64 32` %s" $hint) -}}
{{- end -}}
{{- if and $need.amqp (not $s.rabbitmqPassword) (not $v.rabbitmqCluster.enabled) -}}
{{- $errors = append $errors (printf "secrets.rabbitmqPassword: required %s" $hint) -}}
{{- end -}}
{{- range $name, $svc := $services -}}
{{- if and $svc.database.enabled (not $v.cloudnativepg.enabled) -}}
{{- $p := get $s.databasePasswords $name | default dict -}}
{{- if not $p.password -}}
{{- $errors = append $errors (printf "secrets.databasePasswords.%s.password: required %s" $name $hint) -}}
{{- end -}}
{{- if and $v.migrations.enabled (not $p.ownerPassword) -}}
{{- $errors = append $errors (printf "secrets.databasePasswords.%s.ownerPassword: required by the migrate Job %s" $name $hint) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.ingress.enabled -}}
{{- $target := get $services $v.ingress.service -}}
{{- if not (and $target (has "http" $target.roles)) -}}
{{- $errors = append $errors (printf "ingress.service: %q is not an enabled service with the http role" $v.ingress.service) -}}
{{- end -}}
{{- end -}}
{{- /* Operators: a chart-managed database or broker excludes an external one. */ -}}
{{- if $v.cloudnativepg.enabled -}}
{{- $explicit := list -}}
{{- if $v.postgresql.host -}}{{- $explicit = append $explicit "postgresql.host" -}}{{- end -}}
{{- range $name, $raw := $v.services -}}
{{- $db := (get $raw "database") | default dict -}}
{{- if or $db.host $db.port -}}{{- $explicit = append $explicit (printf "services.%s.database.host/port" $name) -}}{{- end -}}
{{- if (get $s.databasePasswords $name) -}}{{- $explicit = append $explicit (printf "secrets.databasePasswords.%s" $name) -}}{{- end -}}
{{- end -}}
{{- with $explicit -}}
{{- $errors = append $errors (printf "cloudnativepg.enabled（由 CloudNativePG 管理数据库 / operator-managed databases）: the databases and their logins come from the CloudNativePG Clusters, so %s must stay empty; 已开启 CloudNativePG，不能同时指定外部数据库地址或密码" (join ", " .)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.rabbitmqCluster.enabled $v.rabbitmq.host -}}
{{- $errors = append $errors (printf "rabbitmq.host（消息队列地址 / broker host）: %q names an external broker, but rabbitmqCluster.enabled makes the chart's own; set one or the other; 已开启 RabbitmqCluster，不能同时指定外部 RabbitMQ" $v.rabbitmq.host) -}}
{{- end -}}
{{- if $v.keda.enabled -}}
{{- range $name, $svc := $services -}}
{{- if and (has "worker" $svc.roles) $svc.worker.autoscaling.enabled -}}
{{- $errors = append $errors (printf "services.%s.worker.autoscaling.enabled（工作进程自动扩缩 / worker HPA）: keda.enabled scales the worker on its queue length, and an HPA on the same Deployment would fight it; set serviceDefaults.worker.autoscaling.enabled=false; KEDA 与 HPA 不能同时扩缩同一工作进程" $name) -}}
{{- end -}}
{{- end -}}
{{- if gt (int $v.keda.minReplicaCount) (int $v.keda.maxReplicaCount) -}}
{{- $errors = append $errors "keda.minReplicaCount（最少副本数 / fewest replicas）: greater than keda.maxReplicaCount; 最少副本数大于最多副本数" -}}
{{- end -}}
{{- end -}}
{{- /* Federation of releases. */ -}}
{{- $f := $v.federation -}}
{{- if has $f.role (list "downstream" "relay") -}}
{{- $d := $f.downstream -}}
{{- range $key, $label := dict "name" "下级名称 / downstream name" "subtree" "登记的区划代码 / registered division code" "upstreamUri" "上级地址 / upstream address" "credentialsSecret" "上级连接凭据 Secret / upstream credentials Secret" -}}
{{- if not (get $d $key) -}}
{{- $errors = append $errors (printf "federation.downstream.%s（%s）: required when federation.role is %s; 下级或中继发布必须填写" $key $label $f.role) -}}
{{- end -}}
{{- end -}}
{{- if and $d.subtree (not (include "zhiyuan.isDivisionCode" $d.subtree)) -}}
{{- $errors = append $errors (printf "federation.downstream.subtree（登记的区划代码 / registered division code）: %q is not a division code of 2, 4, 6, 9 or 12 digits; 区划代码格式错误" (toString $d.subtree)) -}}
{{- end -}}
{{- end -}}
{{- if has $f.role (list "upstream" "relay") -}}
{{- $list := $f.upstream.downstreams -}}
{{- if not $list -}}
{{- $errors = append $errors (printf "federation.upstream.downstreams（已登记的下级 / registered downstreams）: %s needs at least one downstream {name, subtree, username}; 上级或中继发布至少要登记一个下级" (ternary "an upstream" "a relay" (eq $f.role "upstream"))) -}}
{{- end -}}
{{- $own := toString $f.downstream.subtree -}}
{{- $names := dict -}}
{{- $users := dict -}}
{{- range $i, $d := $list -}}
{{- $where := printf "federation.upstream.downstreams[%d]" $i -}}
{{- $code := toString $d.subtree -}}
{{- if not (include "zhiyuan.isDivisionCode" $code) -}}
{{- $errors = append $errors (printf "%s.subtree（登记的区划代码 / registered division code）: %q is not a division code of 2, 4, 6, 9 or 12 digits; 区划代码格式错误" $where $code) -}}
{{- else if and (eq $f.role "relay") $own (or (not (hasPrefix $own $code)) (eq $own $code)) -}}
{{- $errors = append $errors (printf "%s.subtree（登记的区划代码 / registered division code）: %q is not inside this relay's own subtree %s (federation.downstream.subtree), so its upstream would refuse the cells forwarded for it; 中继发布的下级辖区须在本发布辖区之内" $where $code $own) -}}
{{- end -}}
{{- if not $d.name -}}
{{- $errors = append $errors (printf "%s.name（下级名称 / downstream name）: required; 必须填写" $where) -}}
{{- else if hasKey $names $d.name -}}
{{- $errors = append $errors (printf "%s.name（下级名称 / downstream name）: %q is registered twice; 下级名称重复" $where $d.name) -}}
{{- end -}}
{{- $_ := set $names (toString $d.name) true -}}
{{- if not $d.username -}}
{{- $errors = append $errors (printf "%s.username（下级的消息队列用户 / downstream's broker user）: required; 必须填写" $where) -}}
{{- else if hasKey $users $d.username -}}
{{- $errors = append $errors (printf "%s.username（下级的消息队列用户 / downstream's broker user）: %q is shared with another downstream (each link needs its own credentials); 每个下级须有自己的用户" $where $d.username) -}}
{{- end -}}
{{- $_ := set $users (toString $d.username) true -}}
{{- range $j, $other := $list -}}
{{- $oc := toString $other.subtree -}}
{{- if and (lt $i $j) $code $oc (or (hasPrefix $code $oc) (hasPrefix $oc $code)) -}}
{{- $errors = append $errors (printf "federation.upstream.downstreams（已登记的下级 / registered downstreams）: the subtrees of %q (%s) and %q (%s) overlap, so a division would be counted by both; 下级登记的区划范围重叠" (toString $d.name) $code (toString $other.name) $oc) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with $errors -}}
{{- fail (printf "\n\nzhiyuan: invalid values:\n  - %s\n" (join "\n  - " .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
