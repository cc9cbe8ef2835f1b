module whiskhub.dev/deploy/k8s-tools/yaml2json

go 1.24

require sigs.k8s.io/yaml v1.4.0
