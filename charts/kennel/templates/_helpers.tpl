{{/* Chart name, overridable. */}}
{{- define "kennel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "kennel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kennel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object, without a component. */}}
{{- define "kennel.commonLabels" -}}
helm.sh/chart: {{ include "kennel.chart" . }}
app.kubernetes.io/name: {{ include "kennel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kennel
{{- end }}

{{/* Labels on the operator's objects. */}}
{{- define "kennel.labels" -}}
{{ include "kennel.commonLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels selecting the operator pods. */}}
{{- define "kennel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kennel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "kennel.operatorServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kennel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "kennel.leaseNamespace" -}}
{{- default .Release.Namespace .Values.operator.leaderElection.namespace }}
{{- end }}

{{/* repository:tag or repository@digest; the tag defaults to the chart's appVersion. */}}
{{- define "kennel.image" -}}
{{- $img := index . 0 }}{{- $root := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/* Namespaces in which the workload ServiceAccount exists: release, watched and extra ones. */}}
{{- define "kennel.workloadNamespaces" -}}
{{- $all := list .Release.Namespace }}
{{- $all = concat $all .Values.operator.watchNamespaces .Values.workloads.serviceAccount.extraNamespaces }}
{{- $all | uniq | toJson }}
{{- end }}

{{/* The artifact root, required. */}}
{{- define "kennel.artifactRoot" -}}
{{- required "storage.artifactRoot is required: where training runs write models, e.g. --set storage.artifactRoot=gs://MY_BUCKET/kennel" .Values.storage.artifactRoot }}
{{- end }}

{{/*
  Kubernetes 1.29 or newer (CEL rules in the CRDs). Passes: development builds (v0.0.0-...), and
  v1.20.0, which is not a cluster but Helm's own assumption when it renders offline without
  --kube-version (`helm template`, and GitOps renderers that do not pass the cluster's version,
  with a Helm built without release ldflags). Any other version below 1.29 fails.
*/}}
{{- define "kennel.checkKubeVersion" -}}
{{- $v := .Capabilities.KubeVersion.Version }}
{{- $unknown := or (hasPrefix "v0.0.0" $v) (eq $v "v1.20.0") }}
{{- if and (not $unknown) (semverCompare "<1.29.0-0" $v) }}
{{- fail (printf "Kennel needs Kubernetes 1.29 or newer (its CRDs use CEL validation rules); this cluster is %s" $v) }}
{{- end }}
{{- end }}
