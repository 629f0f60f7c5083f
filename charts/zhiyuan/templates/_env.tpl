{{/*
Environment of one process: the names deploy/config.yaml reads, the same as
in deploy/compose.yaml. Context: dict
  "root"     $
  "name"     service name
  "svc"      merged service (from "zhiyuan.services")
  "role"     api | worker | http | migrate
  "settings" merged role settings (nil for migrate)
Secrets follow least privilege: JWT_PRIVATE_KEY only where a role sets
jwtPrivateKey, PII_KEY only for services with piiKey, AMQP (and the broker
and federation settings) only for api and worker roles, a database only for
its own service; migrate Jobs log in as the database owner. With
rabbitmqCluster or cloudnativepg on, the logins come from the operators'
Secrets instead of the chart's.
*/}}
{{- define "zhiyuan.env" -}}
{{- $v := .root.Values -}}
{{- $prefix := upper .name -}}
{{- $migrate := eq .role "migrate" -}}
{{- $secret := ternary (include "zhiyuan.migrateSecretName" .root) (include "zhiyuan.secretName" .root) $migrate -}}
{{- $svc := .svc -}}
{{- $privateKey := false -}}
{{- if $migrate -}}
{{- range $r := $svc.roles -}}
{{- if (get $svc $r).jwtPrivateKey -}}{{- $privateKey = true -}}{{- end -}}
{{- end -}}
{{- else -}}
{{- $privateKey = .settings.jwtPrivateKey -}}
{{- end -}}
- name: ZHIYUAN_CONFIG
  value: {{ $v.config.file | quote }}
- name: ZHIYUAN_DATA_DIR
  value: {{ $v.config.dataDir | quote }}
- name: LOG_LEVEL
  value: {{ $v.config.logLevel | quote }}
- name: DATABASE_POOL_SIZE
  value: {{ $v.config.databasePoolSize | quote }}
- name: DATABASE_MAX_OVERFLOW
  value: {{ $v.config.databaseMaxOverflow | quote }}
{{- $public := $v.config.publicUrl -}}
{{- if and (not $public) $v.ingress.enabled $v.ingress.hosts -}}
{{- $host := (first $v.ingress.hosts).host -}}
{{- $tls := false -}}
{{- range $t := $v.ingress.tls -}}
{{- if has $host ($t.hosts | default list) -}}{{- $tls = true -}}{{- end -}}
{{- end -}}
{{- $public = printf "%s://%s" (ternary "https" "http" $tls) $host -}}
{{- end -}}
{{- if and $public (not $migrate) }}
- name: GATEWAY_PUBLIC_URL
  value: {{ $public | quote }}
{{- end }}
- name: JWT_ISSUER
  value: {{ $v.jwt.issuer | quote }}
- name: JWT_AUDIENCE
  value: {{ $v.jwt.audience | quote }}
{{- include "zhiyuan.secretEnv" (dict "env" "JWT_PUBLIC_KEY" "secret" $secret "key" "jwt-public-key") }}
{{- if $privateKey }}
{{- include "zhiyuan.secretEnv" (dict "env" "JWT_PRIVATE_KEY" "secret" $secret "key" "jwt-private-key") }}
{{- end }}
{{- if $svc.piiKey }}
{{- include "zhiyuan.secretEnv" (dict "env" "PII_KEY" "secret" $secret "key" "pii-key") }}
{{- end }}
{{- range $c := (include "zhiyuan.components" .root | fromJson).items }}
{{- if eq $c.role "api" }}
- name: {{ upper $c.service }}_GRPC_ADDRESS
  value: "{{ $c.name }}:{{ int $c.port }}"
{{- end }}
{{- end }}
{{- if eq .role "api" }}
- name: {{ $prefix }}_GRPC_LISTEN
  value: "0.0.0.0:{{ int $svc.grpcPort }}"
{{- else if eq .role "http" }}
- name: {{ $prefix }}_LISTEN
  value: "0.0.0.0:{{ int $svc.httpPort }}"
{{- end }}
{{- if not $migrate }}
{{- $listen := ternary (printf "0.0.0.0:%d" (int $v.metrics.port)) "" $v.metrics.enabled }}
- name: {{ $prefix }}_{{ ternary "" (printf "%s_" (upper .role)) (eq .role "http") }}METRICS_LISTEN
  value: {{ $listen | quote }}
{{- if eq .role "worker" }}
- name: METRICS_POLL_SECONDS
  value: {{ $v.metrics.pollSeconds | toString | quote }}
{{- end }}
{{- end }}
{{- if has .role (list "api" "worker") }}
{{- $mq := $v.rabbitmq }}
{{- if $v.rabbitmqCluster.enabled }}
{{- /* The RabbitMQ Cluster Operator's default user; its Service carries the cluster's name. */}}
{{- $rmq := include "zhiyuan.rabbitmqClusterName" .root }}
{{- include "zhiyuan.secretEnv" (dict "env" "RABBITMQ_USERNAME" "secret" (printf "%s-default-user" $rmq) "key" "username") }}
{{- include "zhiyuan.secretEnv" (dict "env" "RABBITMQ_PASSWORD" "secret" (printf "%s-default-user" $rmq) "key" "password") }}
- name: AMQP_URI
  value: "amqp://$(RABBITMQ_USERNAME):$(RABBITMQ_PASSWORD)@{{ $rmq }}.{{ .root.Release.Namespace }}.svc:5672/{{ urlquery $mq.vhost }}"
{{- else }}
{{- /* RABBITMQ_USERNAME/PASSWORD also feed KEDA's TriggerAuthentication (keda.yaml). */}}
- name: RABBITMQ_USERNAME
  value: {{ $mq.username | quote }}
{{- include "zhiyuan.secretEnv" (dict "env" "RABBITMQ_PASSWORD" "secret" $secret "key" "rabbitmq-password") }}
- name: AMQP_URI
  value: "{{ ternary "amqps" "amqp" $mq.tls }}://{{ urlquery $mq.username }}:$(RABBITMQ_PASSWORD)@{{ $mq.host }}:{{ int $mq.port }}/{{ urlquery $mq.vhost }}"
{{- end }}
- name: BROKER_QUORUM_QUEUES
  value: {{ ternary "true" "false" $v.broker.quorumQueues | quote }}
{{- $f := $v.federation }}
- name: FEDERATION_ROLE
  value: {{ $f.role | quote }}
{{- if ne $f.role "none" }}
{{- /* This release's own broker's management API, for `zhiyuan federation link/register` (shovels, users). */}}
{{- $login := ternary "$(RABBITMQ_USERNAME)" (urlquery $mq.username) $v.rabbitmqCluster.enabled }}
- name: FEDERATION_MANAGEMENT_URL
  value: {{ include "zhiyuan.managementUrl" .root | trimSuffix "/" | replace "://" (printf "://%s:$(RABBITMQ_PASSWORD)@" $login) | quote }}
{{- end }}
{{- /* A relay (a province's release between its counties and the nation) is both. */}}
{{- if has $f.role (list "downstream" "relay") }}
- name: FEDERATION_NAME
  value: {{ $f.downstream.name | quote }}
- name: FEDERATION_SUBTREE
  value: {{ $f.downstream.subtree | toString | quote }}
{{- include "zhiyuan.secretEnv" (dict "env" "FEDERATION_UPSTREAM_URI" "secret" $f.downstream.credentialsSecret "key" "uri") }}
- name: FEDERATION_RESYNC_CHUNK
  value: {{ int $f.resyncChunk | toString | quote }}
{{- end }}
{{- if has $f.role (list "upstream" "relay") }}
- name: FEDERATION_DOWNSTREAMS_FILE
  value: {{ include "zhiyuan.federationDownstreamsFile" . | quote }}
- name: FEDERATION_STALE_SECONDS
  value: {{ int $f.upstream.staleSeconds | toString | quote }}
{{- end }}
{{- end }}
{{- if and $svc.database.enabled (ne .role "http") }}
{{- $db := $svc.database }}
{{- $user := ternary $db.ownerUser $db.user $migrate }}
{{- if $v.cloudnativepg.enabled }}
{{- /*
The CloudNativePG Cluster's Secret <cluster>-app (its database owner, a
member of the app role) for every process. Its key `uri` reads
postgresql://, which SQLAlchemy maps to psycopg2 (not installed): the URL is
put together from the same Secret's username and password instead.
*/}}
{{- $cluster := include "zhiyuan.cnpgClusterName" (dict "root" .root "name" .name) }}
{{- include "zhiyuan.secretEnv" (dict "env" (printf "%s_DATABASE_USER" $prefix) "secret" (printf "%s-app" $cluster) "key" "username") }}
{{- include "zhiyuan.secretEnv" (dict "env" (printf "%s_DATABASE_PASSWORD" $prefix) "secret" (printf "%s-app" $cluster) "key" "password") }}
- name: {{ $prefix }}_DATABASE_URL
  value: "postgresql+psycopg://$({{ $prefix }}_DATABASE_USER):$({{ $prefix }}_DATABASE_PASSWORD)@{{ $cluster }}-rw:5432/{{ $db.name }}?sslmode={{ $v.postgresql.sslMode }}"
{{- else }}
{{- include "zhiyuan.secretEnv" (dict "env" (printf "%s_DATABASE_PASSWORD" $prefix) "secret" $secret "key" (printf "%s-database-%spassword" .name (ternary "owner-" "" $migrate))) }}
- name: {{ $prefix }}_DATABASE_URL
  value: "postgresql+psycopg://{{ urlquery $user }}:$({{ $prefix }}_DATABASE_PASSWORD)@{{ $db.host }}:{{ int $db.port }}/{{ $db.name }}?sslmode={{ $v.postgresql.sslMode }}"
{{- end }}
- name: {{ $prefix }}_DATABASE_APP_ROLE
  value: {{ $db.appRole | quote }}
{{- end }}
{{- if eq .role "worker" }}
{{- /* psycopg 3 only detects gevent: under eventlet green workers serialise on the database without this. */}}
- name: PSYCOPG_WAIT_FUNC
  value: wait_select
{{- end }}
{{- include "zhiyuan.otelEnv" (dict "root" .root "serviceName" (ternary (printf "%s-migrate" .name) (ternary .name (printf "%s-%s" .name .role) (eq .role "http")) $migrate)) }}
{{- with $v.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with and .settings .settings.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "zhiyuan.secretEnv" }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* Standard OTEL_* variables; an empty otel.endpoint switches every exporter off. */}}
{{- define "zhiyuan.otelEnv" }}
{{- $o := .root.Values.otel }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | quote }}
{{- $attrs := list "service.namespace=zhiyuan" (printf "k8s.namespace.name=%s" .root.Release.Namespace) }}
{{- range $k, $val := $o.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k $val) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- if $o.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $o.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $o.protocol | quote }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_METRICS_EXPORTER
  value: {{ ternary "otlp" "none" $o.metrics }}
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $o.samplerRatio | toString | quote }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
- name: OTEL_METRICS_EXPORTER
  value: none
{{- end }}
- name: OTEL_LOGS_EXPORTER
  value: none
{{- end -}}
