//! Navidrome's WebSocket host service (issue 4, being written).
