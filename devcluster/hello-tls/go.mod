// The TLS front of the hello image's `https` tag: standard library only, so no go.sum. Built by
// build.sh beside this file, static, and copied into the image by devcluster/images.py.
module berth.dev/devcluster/hello-tls

go 1.26.0
