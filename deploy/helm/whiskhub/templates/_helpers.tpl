{{/*
Names, labels and the blocks every role shares: its settings, its Secrets, the init containers
that wait for what it needs, and its placement.
*/}}

{{- define "whiskhub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-whiskhub, or the release name when it already says whiskhub; 40 characters leave room for suffixes. */}}
{{- define "whiskhub.fullname" -}}
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

{{/* labels: dict "ctx" $ "component" "controller" */}}
{{- define "whiskhub.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: whiskhub
{{ include "whiskhub.selectorLabels" . }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "whiskhub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "whiskhub.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The whiskhub image every role runs. */}}
{{- define "whiskhub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "whiskhub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "whiskhub.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Fully qualified service address: dict "ctx" $ "name" "controller" */}}
{{- define "whiskhub.svc" -}}
{{- printf "%s-%s.%s.svc.%s" (include "whiskhub.fullname" .ctx) .name .ctx.Release.Namespace .ctx.Values.clusterDomain }}
{{- end }}

{{/* The controllers' REST API inside the cluster: what providers and the catalog Job call. */}}
{{- define "whiskhub.controllerUrl" -}}
{{- printf "http://%s:%v" (include "whiskhub.svc" (dict "ctx" . "name" "controller")) .Values.controller.port }}
{{- end }}

{{/* What actions see as __OW_API_HOST. */}}
{{- define "whiskhub.apiHost" -}}
{{- if .Values.whiskhub.apiHost }}
{{- .Values.whiskhub.apiHost }}
{{- else if .Values.ingress.enabled }}
{{- printf "https://%s" .Values.ingress.host }}
{{- else if .Values.edge.enabled }}
{{- printf "https://%s" (include "whiskhub.svc" (dict "ctx" . "name" "edge")) }}
{{- else }}
{{- include "whiskhub.controllerUrl" . }}
{{- end }}
{{- end }}

{{- define "whiskhub.kafkaBrokers" -}}
{{- if .Values.kafka.enabled }}
{{- $fullname := include "whiskhub.fullname" . }}
{{- $brokers := list }}
{{- range $i := until (int .Values.kafka.replicas) }}
{{- $brokers = append $brokers (printf "%s-kafka-%d.%s-kafka-hl.%s.svc.%s:%v" $fullname $i $fullname $.Release.Namespace $.Values.clusterDomain $.Values.kafka.port) }}
{{- end }}
{{- join "," $brokers }}
{{- else }}
{{- required "kafka.external.brokers is required when kafka.enabled is false" .Values.kafka.external.brokers }}
{{- end }}
{{- end }}

{{/*
A value kept across upgrades: the one already in the release's Secret when there is one, else the
given default (a freshly generated one). helm template and helm lint see no cluster: they render
the default.
dict "ctx" $ "secret" NAME "key" KEY "default" VALUE
*/}}
{{- define "whiskhub.keep" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- .default }}
{{- end }}
{{- end }}

{{/* Secret names. */}}
{{- define "whiskhub.authSecret" -}}
{{- default (printf "%s-auth" (include "whiskhub.fullname" .)) .Values.auth.existingSecret }}
{{- end }}
{{- define "whiskhub.couchdbSecret" -}}
{{- if and (not .Values.couchdb.enabled) .Values.couchdb.external.existingSecret }}
{{- .Values.couchdb.external.existingSecret }}
{{- else }}
{{- printf "%s-couchdb" (include "whiskhub.fullname" .) }}
{{- end }}
{{- end }}
{{- define "whiskhub.couchdbSecretKey" -}}
{{- if and (not .Values.couchdb.enabled) .Values.couchdb.external.existingSecret }}
{{- .Values.couchdb.external.existingSecretKey }}
{{- else }}url{{ end }}
{{- end }}
{{- define "whiskhub.redisSecret" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.existingSecret }}
{{- .Values.redis.external.existingSecret }}
{{- else }}
{{- printf "%s-redis" (include "whiskhub.fullname" .) }}
{{- end }}
{{- end }}
{{- define "whiskhub.redisSecretKey" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.external.existingSecret }}
{{- .Values.redis.external.existingSecretKey }}
{{- else }}url{{ end }}
{{- end }}

{{/* Environment entries of the Secrets the roles need. */}}
{{- define "whiskhub.env.couchdb" -}}
- name: WHISKHUB_COUCHDB_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "whiskhub.couchdbSecret" . }}
      key: {{ include "whiskhub.couchdbSecretKey" . }}
{{- end }}
{{- define "whiskhub.env.redis" -}}
- name: WHISKHUB_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "whiskhub.redisSecret" . }}
      key: {{ include "whiskhub.redisSecretKey" . }}
{{- end }}
{{- define "whiskhub.env.systemAuth" -}}
- name: WHISKHUB_SYSTEM_AUTH
  valueFrom:
    secretKeyRef:
      name: {{ include "whiskhub.authSecret" . }}
      key: system
{{- end }}
{{- define "whiskhub.env.guestAuth" -}}
- name: WHISKHUB_GUEST_AUTH
  valueFrom:
    secretKeyRef:
      name: {{ include "whiskhub.authSecret" . }}
      key: guest
{{- end }}

{{/* The shared settings (ConfigMap) every whiskhub container reads. */}}
{{- define "whiskhub.envFrom" -}}
- configMapRef:
    name: {{ include "whiskhub.fullname" . }}-settings
{{- end }}

{{/*
An init container that waits until every target answers (whiskhub-probe wait; targets: couchdb,
couchdb-ready, kafka, redis, docker, http(s)://..., tcp://HOST:PORT), with the settings and
Secrets those targets read.
dict "ctx" $ "name" "wait-for-services" "targets" (list ...) "env" "<yaml list of env>"
*/}}
{{- define "whiskhub.waitFor" -}}
- name: {{ .name }}
  image: {{ include "whiskhub.image" .ctx }}
  imagePullPolicy: {{ .ctx.Values.image.pullPolicy }}
  command: ["whiskhub-probe", "wait"]
  args: {{ toJson .targets }}
  envFrom:
    {{- include "whiskhub.envFrom" .ctx | nindent 4 }}
  {{- with .env }}
  env:
    {{- . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .ctx.Values.initResources | nindent 4 }}
  securityContext:
    {{- toYaml .ctx.Values.securityContext | nindent 4 }}
{{- end }}

{{/*
Placement: node affinity by role label (nodeAffinity.*), and, with spreadAcrossNodes, replicas of
one component kept on different nodes where possible.
dict "ctx" $ "role" "core" "component" "controller"
*/}}
{{- define "whiskhub.affinity" -}}
{{- $na := .ctx.Values.nodeAffinity }}
{{- $spread := .ctx.Values.spreadAcrossNodes }}
{{- if or $na.enabled $spread }}
affinity:
  {{- if $na.enabled }}
  nodeAffinity:
    {{- $term := dict "matchExpressions" (list (dict "key" $na.key "operator" "In" "values" (list (index $na.roles .role)))) }}
    {{- if $na.required }}
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        {{- toYaml (list $term) | nindent 8 }}
    {{- else }}
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          {{- toYaml $term | nindent 10 }}
    {{- end }}
  {{- end }}
  {{- if $spread }}
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "whiskhub.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 14 }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Pod-level fields every pod shares: service account, pull secrets, tolerations. dict "ctx" $ "tolerations" LIST */}}
{{- define "whiskhub.podCommon" -}}
serviceAccountName: {{ include "whiskhub.serviceAccountName" .ctx }}
automountServiceAccountToken: false
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- $tolerations := concat (.ctx.Values.tolerations | default list) (.tolerations | default list) }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
