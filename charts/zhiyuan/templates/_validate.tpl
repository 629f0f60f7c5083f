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
{{- if and $svc.database.enabled (not $svc.database.host) -}}
{{- $errors = append $errors (printf "postgresql.host: required (or services.%s.database.host)" $name) -}}
{{- end -}}
{{- end -}}
{{- if and $need.amqp (not $v.rabbitmq.host) -}}
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
{{- if and $need.amqp (not $s.rabbitmqPassword) -}}
{{- $errors = append $errors (printf "secrets.rabbitmqPassword: required %s" $hint) -}}
{{- end -}}
{{- range $name, $svc := $services -}}
{{- if $svc.database.enabled -}}
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
{{- with $errors -}}
{{- fail (printf "\n\nzhiyuan: invalid values:\n  - %s\n" (join "\n  - " .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
