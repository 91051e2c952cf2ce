import ssl


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Certificates are always verified; `ca_file` trusts a private CA (an in-house mail server)."""
    return ssl.create_default_context(cafile=ca_file or None)
