"""STS: caller identity and temporary credentials. Issued credentials are kept in the store, so the
edge can verify requests signed with them and know whose they are."""
