//! The `intercede` command: serve (default), migrate, create-admin, openapi.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use intercede::app::Application;
use intercede::clock::Clock;
use intercede::config::Config;
use intercede::db::{run_migrations, Db};
use intercede::{accounts, openapi, telemetry};

#[derive(Parser)]
#[command(
    name = "intercede",
    version,
    about = "REST service for a church's intercession ministry"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Applies pending migrations first.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an admin account. At a terminal the password is prompted for (twice, not echoed);
    /// otherwise it is read from standard input (one line).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Fill an empty database with a realistic church, for benchmarks and demos (password of
    /// every account: `seed password`; `admin@seed.example` is the admin).
    Seed {
        /// How many prayer requests.
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// How many members; a hundredth of the requests (50 to 20,000) when omitted.
        #[arg(long)]
        members: Option<usize>,
        /// How many watch signups on the year-long 24/7 watch.
        #[arg(long, default_value_t = 5_000)]
        watch_signups: usize,
    },
    /// Delete answered, closed and expired prayer requests that ended long ago, with their
    /// prayers, updates and comments. Run it from a daily schedule (cron, a systemd timer).
    Purge {
        /// Age in days; `PURGE_AFTER_DAYS` (365) when omitted.
        #[arg(long)]
        older_than_days: Option<i64>,
    },
}

fn main() -> ExitCode {
    intercede::memory::tune_allocator();
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    // Dropped after the command has ended (the server stopped): the last lines are written out.
    let log = telemetry::init(&config.log_filter, config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config),
        Command::CreateAdmin { email, name } => create_admin(&config, &email, &name),
        Command::Purge { older_than_days } => purge(&config, older_than_days),
        Command::Seed {
            requests,
            members,
            watch_signups,
        } => seed(&config, requests, members, watch_signups),
        Command::Openapi => unreachable!("handled above"),
    };
    // The lines logged before the failure come before its message.
    drop(log);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// One line on stderr naming the problem; never a backtrace.
fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("intercede: {e:#}");
    ExitCode::FAILURE
}

fn serve(config: Config) -> anyhow::Result<()> {
    if config.jwt_secret.generated {
        tracing::warn!(
            "JWT_SECRET is not set: using a random key, so sessions end when the process restarts"
        );
    }
    actix_web::rt::System::new().block_on(async move {
        let bind = config.bind_addr.clone();
        let app = Application::build(config).await?;
        tracing::info!(%bind, port = app.port(), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn seed(
    config: &Config,
    requests: usize,
    members: Option<usize>,
    watch_signups: usize,
) -> anyhow::Result<()> {
    let mut scale = intercede::seed::Scale::for_requests(requests);
    if let Some(members) = members {
        scale.members = members.max(11);
    }
    scale.watch_signups = watch_signups;
    let db = Db::open(&config.db_settings())?;
    let mut conn = db.blocking_conn()?;
    let started = std::time::Instant::now();
    let seeded = intercede::seed::seed(
        &mut conn,
        &scale,
        Clock::starting_at(config.clock_start).now(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "seeded {} members, {} requests, {} prayers, watch {} and fast {} in {:.1}s (password: {})",
        seeded.members,
        seeded.requests,
        seeded.prayers,
        seeded.watch_id,
        seeded.fast_id,
        started.elapsed().as_secs_f64(),
        intercede::seed::PASSWORD
    );
    Ok(())
}

fn purge(config: &Config, older_than_days: Option<i64>) -> anyhow::Result<()> {
    let days = older_than_days.unwrap_or(config.purge_after_days);
    if days < 1 {
        anyhow::bail!("--older-than-days must be at least 1");
    }
    let db = Db::open(&config.db_settings())?;
    let mut conn = db.blocking_conn()?;
    let removed = diesel::Connection::transaction(&mut **conn, |c| {
        intercede::privacy::purge::purge(c, days, Clock::starting_at(config.clock_start).now())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("purged {removed} prayer request(s) that ended more than {days} days ago");
    Ok(())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    // Db::connect applies pending migrations; running them again reports that none are left.
    let db = Db::open(&config.db_settings())?;
    let mut conn = db.blocking_conn()?;
    let applied = run_migrations(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("migrations are up to date ({applied} applied just now)");
    Ok(())
}

/// The new admin's password: at a terminal, prompted for twice without echo; piped, one line of
/// standard input (so scripts and the tests can pass it).
fn admin_password(email: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {email}: "))?;
        let again = rpassword::prompt_password("The same password again: ")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was created"
        );
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let password = admin_password(email)?;
    let password = password.as_str();
    let db = Db::open(&config.db_settings())?;
    let mut conn = db.blocking_conn()?;
    match accounts::create_admin(
        &mut conn,
        email,
        name,
        password,
        Clock::starting_at(config.clock_start).now(),
    ) {
        Ok(row) => {
            println!("created admin {} ({})", row.email, row.id);
            Ok(())
        }
        Err(intercede::error::AppError::Validation(errors)) => {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect();
            anyhow::bail!("invalid admin: {}", list.join("; "))
        }
        Err(e) => anyhow::bail!("{e}"),
    }
}
