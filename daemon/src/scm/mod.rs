//! SCM adapters: where PRs live. GitHub is the one real adapter; with no
//! token it is off (and says so once at startup), and no PR is polled.

pub mod github;

pub use github::{GitHub, GitHubConfig};
