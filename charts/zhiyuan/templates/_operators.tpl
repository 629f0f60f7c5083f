{{/*
Names and checks shared by the optional operator-backed templates
(cloudnativepg.yaml, rabbitmqcluster.yaml, keda.yaml) and the federation
settings.
*/}}

{{/*
Fail unless the cluster serves an operator's kind. Context: dict "root" $
"api" group/version/Kind "flag" the values flag "operator" its name. Only
enforced when installing, upgrading or templating (as the validation is):
`helm lint` has no --api-versions and still renders the object.
*/}}
{{- define "zhiyuan.requireApi" -}}
{{- if and (or .root.Release.IsInstall .root.Release.IsUpgrade) (not (.root.Capabilities.APIVersions.Has .api)) -}}
{{- fail (printf "\n\nzhiyuan: %s is true, but the cluster has no %s: install the %s operator (its CRDs) first, or set %s=false.\nzhiyuan：已开启 %s，但集群中没有 %s：请先安装 %s operator（及其 CRD），或将 %s 设为 false。\n(helm template: pass --api-versions %s)\n" .flag .api .operator .flag .flag .api .operator .flag .api) -}}
{{- end -}}
{{- end -}}

{{- define "zhiyuan.rabbitmqClusterName" -}}
{{- printf "%s-rabbitmq" (include "zhiyuan.fullname" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* CloudNativePG Cluster of a service's database. Context: dict "root" $ "name" service. */}}
{{- define "zhiyuan.cnpgClusterName" -}}
{{- printf "%s-%s-db" (include "zhiyuan.fullname" .root) .name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "zhiyuan.federationDownstreamsName" -}}
{{- printf "%s-federation-downstreams" (include "zhiyuan.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Where the upstream's list of downstreams is mounted (FEDERATION_DOWNSTREAMS_FILE). */}}
{{- define "zhiyuan.federationDownstreamsFile" -}}
/etc/zhiyuan/federation/downstreams.json
{{- end -}}

{{/* "true" when the role's pods mount the downstreams ConfigMap. Context: dict "root" $ "role". */}}
{{- define "zhiyuan.mountsDownstreams" -}}
{{- if and (has .root.Values.federation.role (list "upstream" "relay")) (has .role (list "api" "worker")) -}}true{{- end -}}
{{- end -}}

{{/* "true" when KEDA, not an HPA or a fixed count, sets the replicas of a component. */}}
{{- define "zhiyuan.kedaScaled" -}}
{{- if and .root.Values.keda.enabled (eq .role "worker") -}}true{{- end -}}
{{- end -}}

{{/* The RabbitMQ management API URL (no credentials) KEDA reads queue lengths from and the federation commands configure shovels with (with the trailing slash KEDA wants when the URL names no vhost: the trigger's vhostName does). */}}
{{- define "zhiyuan.managementUrl" -}}
{{- $v := .Values -}}
{{- if $v.rabbitmq.managementUrl -}}
{{- printf "%s/" ($v.rabbitmq.managementUrl | trimSuffix "/") -}}
{{- else if $v.rabbitmqCluster.enabled -}}
{{- printf "http://%s.%s.svc:15672/" (include "zhiyuan.rabbitmqClusterName" .) .Release.Namespace -}}
{{- else -}}
{{- printf "http://%s:15672/" $v.rabbitmq.host -}}
{{- end -}}
{{- end -}}

{{/* A division code: 2 (province), 4 (city), 6 (county), 9 (township) or 12 (village) digits. */}}
{{- define "zhiyuan.isDivisionCode" -}}
{{- if regexMatch "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$" (toString .) -}}true{{- end -}}
{{- end -}}
