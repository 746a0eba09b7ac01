{{/* The chart name, or nameOverride. */}}
{{- define "otpgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name if it already
holds the chart name ("otpgate" -> otpgate-0, otpgate-nodes, ...), else "<release>-<name>".
52 characters at most: a pod name adds "-<ordinal>" and a StatefulSet's controller revision
label needs 11 more characters within 63.
*/}}
{{- define "otpgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "otpgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the gateway's pods (StatefulSet, Services, budget). */}}
{{- define "otpgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "otpgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "otpgate.labels" -}}
helm.sh/chart: {{ include "otpgate.chart" . }}
app.kubernetes.io/name: {{ include "otpgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "otpgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "otpgate.secretName" -}}
{{- default (printf "%s-secrets" (include "otpgate.fullname" .)) .Values.secret.name }}
{{- end }}

{{- define "otpgate.configMapName" -}}
{{- default (printf "%s-config" (include "otpgate.fullname" .)) .Values.config.existingConfigMap }}
{{- end }}

{{- define "otpgate.policyConfigMapName" -}}
{{- default (printf "%s-policy" (include "otpgate.fullname" .)) .Values.policy.existingConfigMap }}
{{- end }}

{{/* gateway.toml as the chart renders it: the value, else the chart's copy of deploy/k8s's. */}}
{{- define "otpgate.gatewayToml" -}}
{{- default (.Files.Get "files/gateway.toml") .Values.config.gatewayToml }}
{{- end }}

{{- define "otpgate.policyToml" -}}
{{- default (.Files.Get "files/policy.toml") .Values.policy.policyToml }}
{{- end }}

{{/* Every node id of the cluster, as a TOML list's items: "otpgate-0", "otpgate-1", ... */}}
{{- define "otpgate.clusterNodes" -}}
{{- $fullname := include "otpgate.fullname" . }}
{{- $nodes := list }}
{{- range $i := until (int .Values.replicaCount) }}
{{- $nodes = append $nodes (printf "%q" (printf "%s-%d" $fullname $i)) }}
{{- end }}
{{- join ", " $nodes }}
{{- end }}

{{/* Refuse values that would give nodes that cannot start, with the reason. */}}
{{- define "otpgate.validate" -}}
{{- if and .Values.secret.create (not .Values.secret.stringData) }}
{{- fail "secret.create is true but secret.stringData is empty: give the Secret's files (see values.yaml), or set create: false and create the Secret yourself" }}
{{- end }}
{{- if and .Values.secret.create .Values.metrics.serviceMonitor.enabled (not (hasKey .Values.secret.stringData .Values.metrics.serviceMonitor.operatorKeySecretKey)) }}
{{- fail (printf "metrics.serviceMonitor scrapes with the Secret's %s: add it to secret.stringData" .Values.metrics.serviceMonitor.operatorKeySecretKey) }}
{{- end }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- if not .Values.config.existingConfigMap }}
{{- $toml := include "otpgate.gatewayToml" . }}
{{- if not (regexMatch "(?m)^\\s*\\[signals\\.mqtt\\]" $toml) }}
{{- fail "replicaCount > 1 is cluster mode, which needs [signals.mqtt] in gateway.toml: the nodes pass each other's commands through the broker" }}
{{- end }}
{{- if regexMatch "(?m)^\\s*\\[cluster\\]" $toml }}
{{- fail "gateway.toml has a [cluster] table: leave it out, the chart writes it from replicaCount (every pod's name)" }}
{{- end }}
{{- end }}
{{- if and .Values.secret.create (not (hasKey .Values.secret.stringData .Values.cluster.secretKey)) }}
{{- fail (printf "replicaCount > 1 is cluster mode: secret.stringData needs the cluster secret, key %s" .Values.cluster.secretKey) }}
{{- end }}
{{- end }}
{{- end }}
