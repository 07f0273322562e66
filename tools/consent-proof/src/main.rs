//! `consent-proof verify FILE [--public-key KEY] [--disclose TEXT --salt SALT [--event ID]]` and `consent-proof verify-bundle FILE
//! [--public-key KEY]`: exit 0 when the proof (the bundle) is valid, 1 when it is not (each
//! problem is named), 2 when the input cannot be read as one at all.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Checks consent proof documents offline, with only the public key.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verifies a proof document: every event's hash, the chain's links and head, and the
    /// Ed25519 signature.
    Verify {
        /// The proof document (JSON); `-` reads standard input.
        file: PathBuf,
        /// The public key the document must be signed with (base64 or hex of 32 bytes, as
        /// `GET /v1/proof-key` serves it). Without it, the key the document names is used, which
        /// proves only that the document is unchanged since whoever holds that key signed it.
        #[arg(long)]
        public_key: Option<String>,
        /// A text the firm discloses: checked against the proof's salted commitments (with
        /// `--salt`); exit 0 only when the proof is valid and commits to it.
        #[arg(long, requires = "salt")]
        disclose: Option<String>,
        /// The disclosed text's salt, 64 hex digits, as the firm's copy (`?include=texts`)
        /// gives it.
        #[arg(long, requires = "disclose")]
        salt: Option<String>,
        /// The id of the event the disclosed text belongs to; any event when absent.
        #[arg(long, requires = "disclose")]
        event: Option<String>,
    },
    /// Verifies a firm's audit bundle: the manifest's signature, every proof in it, and that
    /// the manifest lists exactly those proofs, each with its status, chain head and count.
    VerifyBundle {
        /// The bundle (JSON, as `GET /v1/firms/{firm_id}/proofs` serves it); `-` reads
        /// standard input.
        file: PathBuf,
        /// The public key the manifest and every proof must be signed with (base64 or hex).
        #[arg(long)]
        public_key: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify {
            file,
            public_key,
            disclose: Some(text),
            salt,
            event,
        } => exit_with(
            consent_proof::verify_disclosure_file(
                &file,
                public_key.as_deref(),
                &text,
                salt.as_deref().unwrap_or_default(),
                event.as_deref(),
            )
            .map(|report| {
                let valid = report.is_valid();
                (
                    consent_proof::describe_disclosure(&file.display().to_string(), &report),
                    valid,
                )
            }),
        ),
        Command::Verify {
            file, public_key, ..
        } => exit_with(
            consent_proof::verify_file(&file, public_key.as_deref()).map(|report| {
                let valid = report.verification.is_valid();
                (
                    consent_proof::describe(&file.display().to_string(), &report),
                    valid,
                )
            }),
        ),
        Command::VerifyBundle { file, public_key } => exit_with(
            consent_proof::verify_bundle_file(&file, public_key.as_deref()).map(|report| {
                let valid = report.verification.is_valid();
                (
                    consent_proof::describe_bundle(&file.display().to_string(), &report),
                    valid,
                )
            }),
        ),
    }
}

/// Prints a verification's description and exits 0 when valid, 1 when not, 2 when the input
/// could not be read at all.
fn exit_with<E: std::fmt::Display>(outcome: Result<(String, bool), E>) -> ExitCode {
    match outcome {
        Ok((description, valid)) => {
            print!("{description}");
            if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("consent-proof: {error}");
            ExitCode::from(2)
        }
    }
}
