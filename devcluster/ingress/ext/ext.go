// Package ext holds the extension points that Traefik's dynamic configuration embeds. The open
// source build leaves them empty; the types only have to exist for pkg/config/dynamic to compile.
package ext

// HTTP is embedded, empty, in dynamic.HTTPConfiguration.
type HTTP struct{}

// Router is embedded, empty, in dynamic.Router.
type Router struct{}
