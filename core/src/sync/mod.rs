//! Sync: one protocol for device <-> server, device <-> device (a hub
//! tablet at an event) and bundle files.
//!
//! A sync is a *session* of batched request/response exchanges, not a loop
//! over documents. The device stages what changed since its last
//! acknowledged sync ([`crate::store::Store::stage`]), [`plan::plan`] (a pure
//! function) decides what to send in which batch, and [`client::sync`] applies
//! the plan over a [`Transport`]. An up-to-date device costs one small round
//! trip. Every exchange is idempotent: Automerge changes are
//! content-addressed, so a replayed, duplicated or reordered message merges
//! to the same document, and a response is identified by its id, so it is
//! counted once however often it arrives.
//!
//! Wire format ([`codec`]): `gzip(CBOR(Envelope))`, with an explicit protocol
//! version; a peer speaking a newer version gets [`SyncError::Version`].
//!
//! The store knows nothing of messages: this module turns the store's
//! [`crate::store::replica`] types into wire types and back. The device side
//! is [`client`], the answering side of a device-to-device sync (a hub
//! tablet) is [`hub`].

pub mod bundle;
pub mod client;
pub mod codec;
pub mod http;
pub mod hub;
pub mod plan;
mod wire;

pub use client::{Progress, SyncReport, Transport, area_lists, sync};
pub use codec::{decode, encode, encode_answer};
pub use wire::{
    Ack, DocData, Envelope, Hash, PROTOCOL, Rejected, SyncError, SyncRequest, SyncResponse,
    heads_from_wire, incoming, wire_heads,
};

#[cfg(test)]
mod tests;
