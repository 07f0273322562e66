//! `consent-local`: the whole service on one machine, on the embedded store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use consent_local::Local;
use consent_sqlite::Durability;

/// The allocator: the gate on the embedded store allocates on the async threads and frees on
/// the database's writer thread, where glibc's malloc cost a quarter of the async thread's time
/// (docs/performance.md, "Throughput through the local server").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `--sync`: when an answered write is on disk.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sync {
    /// Synced at every commit: survives a crash of the process or of the machine.
    Full,
    /// Synced at checkpoints: survives a crash of the process (`kill -9`); several times faster,
    /// but a power cut may lose the last answered writes.
    Normal,
}

/// Runs every function of the consent service locally on the embedded store.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// What to do instead of serving.
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on (loopback only by default).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Where the embedded database (`consent.db`), its lock and the key files live.
    #[arg(long, default_value = ".consent-local")]
    data_dir: PathBuf,
    /// When an answered write is on disk (the embedded database's `synchronous` setting).
    #[arg(long, value_enum, default_value = "full")]
    sync: Sync,
    /// Registers a demo firm and number to try the whole flow at once.
    #[arg(long)]
    demo: bool,
    /// Uses the DynamoDB, SNS and SES adapters instead of the embedded store (needs
    /// AWS_ENDPOINT_URL pointing at an emulator such as moto, and a build with `--features aws`).
    #[arg(long)]
    aws: bool,
    /// The DynamoDB table in `--aws` mode (created if missing).
    #[arg(long, default_value = "consent-local")]
    table: String,
}

/// Commands other than serving.
#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the API's OpenAPI 3.1 document (docs/openapi.json) and exits.
    Openapi {
        /// The local server's document instead: the API's and the local-only routes.
        #[arg(long)]
        local: bool,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message names what to fix.
            eprintln!("consent-local: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if let Some(Command::Openapi { local }) = args.command {
        let json = if local {
            consent_local::openapi::document_json()
        } else {
            consent_openapi::document_json()
        };
        print!("{json}");
        return Ok(());
    }
    let base_url = format!("http://{}", args.addr);
    let local = if args.aws {
        Local::open_aws(&args.data_dir, &base_url, &args.table).await?
    } else {
        let durability = match args.sync {
            Sync::Full => Durability::Full,
            Sync::Normal => Durability::Normal,
        };
        Local::open(&args.data_dir, &base_url, durability).await?
    };
    if args.demo {
        local.register_demo().await?;
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let release = local.clone();
    // Deferred sends go out when their window opens, driven by the (settable) clock.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(error) = release.services.release_due().await {
                tracing::warn!(error = %error, "releasing deferred sends failed");
            }
        }
    });
    let store = if args.aws {
        format!("DynamoDB table {} at $AWS_ENDPOINT_URL", args.table)
    } else {
        format!(
            "embedded database {}",
            args.data_dir.join("consent.db").display()
        )
    };
    println!("consent service listening on {base_url}  ({store})");
    if args.demo {
        println!(
            "demo firm '{}' texts from {}; open {base_url}/ to try it",
            consent_local::DEMO_FIRM_ID,
            consent_local::DEMO_SMS_NUMBER
        );
    }
    axum::serve(
        listener,
        local
            .router()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
