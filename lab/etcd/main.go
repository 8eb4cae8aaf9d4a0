// Command etcd is upstream etcd's server entry point, unchanged: the lab needs a real etcd
// and the etcd project publishes no Go command package to `go build` directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
