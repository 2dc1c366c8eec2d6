//! The `asyncstudy` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use asyncstudy::{Error, Status};

fn main() -> ExitCode {
    let plan = match asyncstudy::cli::parse(std::env::args_os()) {
        Ok(Some(plan)) => plan,
        // Help or version was printed.
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => return fail(e),
    };
    match asyncstudy::run(plan) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::TasksFailed) => ExitCode::from(1),
        Ok(Status::Interrupted(sig)) => ExitCode::from((128 + sig).clamp(0, 255) as u8),
        Err(e) => fail(e),
    }
}

fn fail(e: Error) -> ExitCode {
    match e {
        Error::BadInput(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Error::Usage(help) => {
            eprintln!("{}", help.trim_end());
            ExitCode::from(2)
        }
        Error::Failed(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
