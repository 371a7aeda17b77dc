package importer

// tlsFlags are the TLS policy flags the function owns; none until the config has
// spec.server.tls, so --tls-min-version and --tls-cipher-suites stay in args.
var tlsFlags []string

func (d *draft) tls(*installation, string, string) {}
