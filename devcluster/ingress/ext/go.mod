// Stands in for Traefik's nested module of the same path: its go.mod points that path at a
// directory inside its own repository, which is neither in the v3 module zip nor on the proxy.
module github.com/traefik/traefik/dynamic/ext

go 1.26.0
