//! `tandem-scripted-model --scenario FILE [--port N] [--record FILE] [--quiet]`
//!
//! Serves a scenario over HTTP until killed. It prints exactly one line on stdout,
//! `listening on http://127.0.0.1:PORT/v1`, so scripts can read the URL; everything else
//! goes to stderr, starting with a plain notice that the "model" is a script.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tandem_scripted_model::{Scenario, ScriptedServer, ServerOptions};

const USAGE: &str =
    "usage: tandem-scripted-model --scenario FILE [--port N] [--record FILE] [--quiet]

Serves POST /v1/responses and POST /v1/chat/completions on 127.0.0.1, answering each model
request with the next step of the scenario. GET /_requests lists the requests received and
GET /_scenario/status reports progress and failed expectations.

  --scenario FILE  the scenario (TOML) to replay
  --port N         the port to listen on (default: a free one)
  --record FILE    append every request to FILE as JSON lines
  --quiet          do not log each request to stderr";

struct Args {
    scenario: PathBuf,
    options: ServerOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut scenario = None;
    let mut options = ServerOptions {
        log_requests: true,
        ..ServerOptions::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--scenario" => scenario = Some(PathBuf::from(value("--scenario")?)),
            "--port" => {
                let port = value("--port")?;
                options.port = port
                    .parse()
                    .map_err(|_| format!("--port: {port:?} is not a port number"))?;
            }
            "--record" => options.record = Some(PathBuf::from(value("--record")?)),
            "--quiet" => options.log_requests = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let scenario = scenario.ok_or("--scenario FILE is required")?;
    Ok(Args { scenario, options })
}

#[allow(clippy::print_stdout, clippy::print_stderr)] // This is the program's interface.
fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("tandem-scripted-model: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::from_toml_file(&args.scenario) {
        Ok(scenario) => scenario,
        Err(err) => {
            eprintln!("tandem-scripted-model: {err}");
            return ExitCode::from(2);
        }
    };
    let steps = scenario.steps.len();
    let description = if scenario.description.is_empty() {
        String::new()
    } else {
        format!(" ({})", scenario.description)
    };
    eprintln!(
        "tandem-scripted-model: this is a SCRIPTED model, not a real one. It replays {steps} \
         step(s) from {}{description}.",
        args.scenario.display()
    );
    let server = match ScriptedServer::start_with(scenario, args.options) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("tandem-scripted-model: cannot start the server: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.base_url());
    let _ = std::io::stdout().flush();
    server.wait();
    ExitCode::SUCCESS
}
