// hello-tls serves HTTPS on $HTTPS_PORT with a self-signed certificate made at start, and passes
// every request to the hello app's plain HTTP on 127.0.0.1:$PORT: a container whose port speaks
// TLS itself, as an HTTPS port of a Lightsail container does.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

// selfSigned is a certificate for the pod's host name that nobody is meant to verify: the load
// balancer in front takes it as it is (Lightsail's does too).
func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	log.SetFlags(0)
	port := env("HTTPS_PORT", "443")
	backend := &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", env("PORT", "80"))}
	host, _ := os.Hostname()
	certificate, err := selfSigned(host)
	if err != nil {
		log.Fatalf("hello-tls: no certificate: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	// The hello app answers one request per connection (busybox nc).
	proxy.Transport = &http.Transport{DisableKeepAlives: true}
	server := &http.Server{
		Addr:              ":" + port,
		Handler:           proxy,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{certificate}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Printf("hello-tls: HTTPS on :%s (self-signed for %s) to %s", port, host, backend)
	log.Fatal(server.ListenAndServeTLS("", ""))
}
