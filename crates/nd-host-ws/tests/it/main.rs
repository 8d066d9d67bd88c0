//! Integration tests of nd-host-ws.
