{{/* The labels the kustomize base puts on every object (and nothing Helm-specific, so the two render the same). */}}
{{- define "netfence.labels" -}}
app.kubernetes.io/name: netfence
app.kubernetes.io/part-of: netfence
{{- end }}

{{/*
The NetfenceConfig text: .Values.config, or the chart's files/config.yaml; with
.Values.excludedNamespaces set, that list replaces the config's excludedNamespaces.
*/}}
{{- define "netfence.config" -}}
{{- $text := .Values.config | default (.Files.Get "files/config.yaml") -}}
{{- if kindIs "invalid" .Values.excludedNamespaces -}}
{{- $text -}}
{{- else -}}
{{- $cfg := fromYaml $text -}}
{{- $_ := set $cfg "excludedNamespaces" .Values.excludedNamespaces -}}
{{- toYaml $cfg -}}
{{- end -}}
{{- end }}

{{/*
Namespaces the webhooks never see: the release namespace and the config's excludedNamespaces
(the built-in ones when the config names none), so that the config is the one list.
*/}}
{{- define "netfence.namespaceSelector" -}}
{{- $cfg := fromYaml (include "netfence.config" .) -}}
{{- $excluded := $cfg.excludedNamespaces | default (list "kube-system" "kube-public" "kube-node-lease" "cert-manager") -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ prepend $excluded .Release.Namespace | uniq | sortAlpha | toJson }}
{{- end }}

{{- define "netfence.validate" -}}
{{- if not (has .Values.certificates.mode (list "self-managed" "cert-manager")) }}
{{- fail (printf "certificates.mode %q: must be self-managed or cert-manager" .Values.certificates.mode) }}
{{- end }}
{{- if not (has .Values.failurePolicy (list "Fail" "Ignore")) }}
{{- fail (printf "failurePolicy %q: must be Fail or Ignore" .Values.failurePolicy) }}
{{- end }}
{{- if or (lt (int .Values.timeoutSeconds) 1) (gt (int .Values.timeoutSeconds) 30) }}
{{- fail (printf "timeoutSeconds %v: must be between 1 and 30" .Values.timeoutSeconds) }}
{{- end }}
{{- end }}
