{{/*
Naming, labels and the merged view of .Values.services that every template
ranges over. Helpers that take a component expect the dicts built by
"zhiyuan.components".
*/}}

{{- define "zhiyuan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "zhiyuan.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "zhiyuan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels. Context: dict "root" $ and optionally "component". */}}
{{- define "zhiyuan.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zhiyuan.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* Standard labels. Context: dict "root" $ and optionally "component". */}}
{{- define "zhiyuan.labels" -}}
helm.sh/chart: {{ include "zhiyuan.chart" .root }}
{{ include "zhiyuan.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: zhiyuan
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* name, namespace, labels and annotations (commonAnnotations plus "annotations"). Context: dict "root" $ "name" and optionally "component", "annotations". */}}
{{- define "zhiyuan.metadata" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "zhiyuan.labels" . | nindent 2 }}
{{- with merge (deepCopy (.annotations | default dict)) (.root.Values.commonAnnotations | default dict) }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "zhiyuan.image" -}}
{{- $img := .Values.image -}}
{{- $repo := ternary (printf "%s/%s" $img.registry $img.repository) $img.repository (ne $img.registry "") -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{- define "zhiyuan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "zhiyuan.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Secret read by the service pods. */}}
{{- define "zhiyuan.secretName" -}}
{{- default (include "zhiyuan.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Secret read by the migrate Jobs: a hook Secret, since pre-install hooks
run before the release's ordinary resources exist. */}}
{{- define "zhiyuan.migrateSecretName" -}}
{{- default (printf "%s-migrate" (include "zhiyuan.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/*
Enabled services as JSON: name -> service values merged onto serviceDefaults,
with each of its roles replaced by roleDefaults <- serviceDefaults.<role> <-
services.<name>.<role>, and the database names filled in.
*/}}
{{- define "zhiyuan.services" -}}
{{- $root := . -}}
{{- $out := dict -}}
{{- range $name, $raw := .Values.services -}}
{{- $svc := mergeOverwrite (deepCopy $root.Values.serviceDefaults) (deepCopy $raw) -}}
{{- if $svc.enabled -}}
{{- range $role := $svc.roles -}}
{{- $_ := set $svc $role (mergeOverwrite (deepCopy $root.Values.roleDefaults) (get $svc $role | default dict)) -}}
{{- end -}}
{{- $db := $svc.database -}}
{{- $_ := set $db "host" (default $root.Values.postgresql.host $db.host) -}}
{{- $_ := set $db "port" (default $root.Values.postgresql.port $db.port) -}}
{{- $_ := set $db "name" (default (printf "zhiyuan_%s" $name) $db.name) -}}
{{- $_ := set $db "user" (default (printf "zhiyuan_%s" $name) $db.user) -}}
{{- $_ := set $db "ownerUser" (default (printf "zhiyuan_%s_owner" $name) $db.ownerUser) -}}
{{- $_ := set $db "appRole" (default (printf "zhiyuan_%s_app" $name) $db.appRole) -}}
{{- $_ := set $out $name $svc -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
One component per (enabled service, role): what each Kubernetes kind ranges
over. The role fixes the command, the port and the probe handler:
  api     run <service> api    gRPC  grpcPort
  worker  run <service> worker (no port)
  http    run <service>        HTTP  httpPort
*/}}
{{- define "zhiyuan.components" -}}
{{- $root := . -}}
{{- $items := list -}}
{{- range $name, $svc := include "zhiyuan.services" . | fromJson -}}
{{- range $role := $svc.roles -}}
{{- $component := ternary $name (printf "%s-%s" $name $role) (eq $role "http") -}}
{{- $c := dict "service" $name "role" $role "component" $component "svc" $svc "settings" (get $svc $role) -}}
{{- $_ := set $c "name" (printf "%s-%s" (include "zhiyuan.fullname" $root) $component | trunc 63 | trimSuffix "-") -}}
{{- $_ := set $c "args" (ternary (list "run" $name) (list "run" $name $role) (eq $role "http")) -}}
{{- if eq $role "api" -}}
{{- $_ := set $c "port" (int $svc.grpcPort) -}}
{{- $_ := set $c "portName" "grpc" -}}
{{- else if eq $role "http" -}}
{{- $_ := set $c "port" (int $svc.httpPort) -}}
{{- $_ := set $c "portName" "http" -}}
{{- end -}}
{{- $items = append $items $c -}}
{{- end -}}
{{- end -}}
{{- toJson (dict "items" $items) -}}
{{- end -}}

{{/* Pod-level settings shared by Deployments and Jobs. Context: dict "root" $ "serviceAccountName" name "automountToken" bool, optionally "mountDownstreams". */}}
{{- define "zhiyuan.podSpec" -}}
serviceAccountName: {{ .serviceAccountName }}
automountServiceAccountToken: {{ .automountToken }}
enableServiceLinks: false
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .root.Values.tmpSizeLimit }}
  {{- if .mountDownstreams }}
  - name: federation-downstreams
    configMap:
      name: {{ include "zhiyuan.federationDownstreamsName" .root }}
  {{- end }}
{{- end -}}

{{/* Container settings shared by every container. Context: dict "root" $ and optionally "mountDownstreams" (the upstream's federation-downstreams ConfigMap). */}}
{{- define "zhiyuan.containerBase" -}}
image: {{ include "zhiyuan.image" .root | quote }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  {{- if .mountDownstreams }}
  - name: federation-downstreams
    mountPath: {{ include "zhiyuan.federationDownstreamsFile" .root | dir }}
    readOnly: true
  {{- end }}
{{- end -}}

{{/* Startup, liveness and readiness probes of a component: the role picks the handler, the values the timing. */}}
{{- define "zhiyuan.probes" -}}
{{- $c := . -}}
{{- range $kind := list "startup" "liveness" "readiness" }}
{{ $kind }}Probe:
  {{- if eq $c.role "api" }}
  grpc:
    port: {{ int $c.port }}
    {{- if eq $kind "readiness" }}
    {{- /* The named service follows the api's database; "" (startup, liveness) only the process. */}}
    service: {{ printf "zhiyuan.%s.v1.%sService" $c.service (title $c.service) | quote }}
    {{- end }}
  {{- else if eq $c.role "worker" }}
  exec:
    command: [zhiyuan, probe, worker, {{ $c.service }}]
  {{- else }}
  httpGet:
    path: {{ ternary "/readyz" "/healthz" (eq $kind "readiness") }}
    port: http
  {{- end }}
  {{- with get $c.settings.probes $kind }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Pod annotations: the role's podAnnotations, Prometheus' scrape annotations (metrics.enabled), plus a checksum of the chart-made Secrets, so pods roll when a key changes. Context: dict "root" $ "settings". */}}
{{- define "zhiyuan.podAnnotations" -}}
{{- $all := deepCopy (.settings.podAnnotations | default dict) -}}
{{- if .root.Values.metrics.enabled -}}
{{- $_ := set $all "prometheus.io/scrape" "true" -}}
{{- $_ := set $all "prometheus.io/port" (toString (int .root.Values.metrics.port)) -}}
{{- $_ := set $all "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- if not .root.Values.secrets.existingSecret -}}
{{- $_ := set $all "checksum/secret" (include (print .root.Template.BasePath "/secret.yaml") .root | sha256sum) -}}
{{- end -}}
{{- if has .root.Values.federation.role (list "upstream" "relay") -}}
{{- $_ := set $all "checksum/federation-downstreams" (toJson .root.Values.federation.upstream.downstreams | sha256sum) -}}
{{- end -}}
{{- with $all }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/* Keys both chart-made Secrets carry (secret.yaml). */}}
{{- define "zhiyuan.secretKeys" -}}
{{- with .Values.secrets.jwtPublicKey }}
jwt-public-key: {{ b64enc . }}
{{- end }}
{{- with .Values.secrets.jwtPrivateKey }}
jwt-private-key: {{ b64enc . }}
{{- end }}
{{- with .Values.secrets.piiKey }}
pii-key: {{ b64enc . }}
{{- end }}
{{- end -}}
