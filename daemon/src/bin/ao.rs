//! `ao`: run the daemon, or talk to a running one over its HTTP API.
//!
//! Exit codes: 0 success; 1 the operation failed or the daemon said no;
//! 2 usage error or invalid configuration.

use ao_daemon::cli::{self, Cli};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    cli::main(cli)
}
