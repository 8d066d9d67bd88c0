//! Integration tests of nd-host-http.
