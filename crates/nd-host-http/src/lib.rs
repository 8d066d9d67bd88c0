//! Sandboxed outgoing HTTP for the ndp runtime (issue 4, being written): one [`policy`] for
//! every way a plugin reaches the network, and the [`client`] that enforces it.

pub mod client;
pub mod policy;
