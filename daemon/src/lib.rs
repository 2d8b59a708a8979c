//! `ao-daemon`: a slim tokio daemon around the pure ao core. It owns no
//! decisions: it feeds inputs to the core's step, executes the effects in
//! order, and journals what it fed so any incident can be replayed.

pub mod agent;
pub mod api;
pub mod cli;
pub mod config;
pub mod driver;
pub mod error;
pub mod event_log;
pub mod guard;
pub mod journal;
pub mod lock;
pub mod notify;
pub mod owner;
pub mod ports;
pub mod preflight;
pub mod runtime;
pub mod scm;
pub mod server;
pub mod spool;
pub mod store;
pub mod token;
pub mod web;
pub mod workspace;
pub mod writer;
