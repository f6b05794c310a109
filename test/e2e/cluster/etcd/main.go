// etcd for the end-to-end suite: the server's own entry point, built from the module that
// k8s.io/kubernetes itself requires, so the two agree on their shared dependencies.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
