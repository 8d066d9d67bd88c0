//! Integration tests of nd-host-http.
mod client;
mod service;
