{{/* Chart name. */}}
{{- define "jobset.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, plus "-jobset" unless it contains the chart name. */}}
{{- define "jobset.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "jobset.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "jobset.labels" -}}
helm.sh/chart: {{ include "jobset.chart" . }}
{{ include "jobset.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "jobset.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jobset.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{- define "jobset.serviceAccountName" -}}
{{- default (printf "%s-controller-manager" (include "jobset.fullname" .)) .Values.serviceAccount.name }}
{{- end }}

{{- define "jobset.webhookServiceName" -}}
{{- include "jobset.fullname" . }}-webhook-service
{{- end }}

{{- define "jobset.webhookSecretName" -}}
{{- include "jobset.fullname" . }}-webhook-server-cert
{{- end }}

{{- define "jobset.metricsSecretName" -}}
{{- include "jobset.fullname" . }}-metrics-server-cert
{{- end }}

{{- define "jobset.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The controller's Configuration (config.jobset.x-k8s.io/v1alpha1), from the values. */}}
{{- define "jobset.configuration" -}}
{{- $cfg := dict "apiVersion" "config.jobset.x-k8s.io/v1alpha1" "kind" "Configuration" }}
{{- $_ := set $cfg "webhook" (dict "port" (int .Values.webhook.port)) }}
{{- $_ = set $cfg "health" (dict "healthProbeBindAddress" (printf ":%d" (int .Values.health.port))) }}
{{- $metricsAddr := "0" }}
{{- if .Values.metrics.enabled }}{{ $metricsAddr = printf ":%d" (int .Values.metrics.port) }}{{ end }}
{{- $_ = set $cfg "metrics" (dict "bindAddress" $metricsAddr) }}
{{- $le := dict "leaderElect" .Values.leaderElection.enabled "resourceName" .Values.leaderElection.resourceName "leaseDuration" .Values.leaderElection.leaseDuration "renewDeadline" .Values.leaderElection.renewDeadline "retryPeriod" .Values.leaderElection.retryPeriod }}
{{- $_ = set $cfg "leaderElection" $le }}
{{- if .Values.certManager.enabled }}
{{- $_ = set $cfg "internalCertManagement" (dict "enable" false) }}
{{- else }}
{{- $_ = set $cfg "internalCertManagement" (dict "enable" true "webhookServiceName" (include "jobset.webhookServiceName" .) "webhookSecretName" (include "jobset.webhookSecretName" .)) }}
{{- end }}
{{- $_ = set $cfg "clientConnection" (dict "qps" .Values.clientConnection.qps "burst" (int .Values.clientConnection.burst)) }}
{{- if .Values.featureGates }}{{ $_ = set $cfg "featureGates" .Values.featureGates }}{{ end }}
{{- if .Values.tls }}{{ $_ = set $cfg "tls" .Values.tls }}{{ end }}
{{- toYaml $cfg }}
{{- end }}
