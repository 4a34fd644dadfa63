//! The `kruimel` command: thin on purpose. Parse the command line, load the
//! configuration, start logging, bind the listeners, call `startup::run`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kruimel::accounts::manage::Manager;
use kruimel::config::{self, TokenHash};
use kruimel::disclosure;
use kruimel::http::{Listeners, probe, script};
use kruimel::store::{Embedded, MigrationRun};
use kruimel::{reload, startup};

/// Hits are allocated by request handlers and freed by the aggregator on
/// another thread; mimalloc handles that pattern far better than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Privacy-first web analytics for Dutch municipalities.
///
/// Every setting can also be given as an environment variable:
/// KRUIMEL_SERVER__LISTEN=0.0.0.0:8080 sets `listen` in `[server]`.
#[derive(Parser)]
#[command(name = "kruimel", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// TOML configuration file; without one, defaults and KRUIMEL_* variables apply.
        #[arg(long, short, env = "KRUIMEL_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check a configuration (sites, patterns, country database) and exit;
    /// warn about what the privacy page's register entry lacks.
    CheckConfig {
        /// TOML configuration file; without one, defaults and KRUIMEL_* variables apply.
        #[arg(long, short, env = "KRUIMEL_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Exit 0 when the server of this configuration answers /healthz on its
    /// admin listener within two seconds, 1 otherwise (container health checks).
    Healthcheck {
        /// TOML configuration file; without one, defaults and KRUIMEL_* variables apply.
        #[arg(long, short, env = "KRUIMEL_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the `<script>` tag a site embeds: this build's script, pinned
    /// by version and by its Subresource Integrity hash. With the
    /// configuration, a site that shows no notice (no optional categories)
    /// gets the tracker alone (`/js/kruimel-tracker.js`); without it, the
    /// whole script.
    Snippet {
        /// The site's id, as configured.
        #[arg(long)]
        site: String,
        /// Where browsers reach this server's public listener.
        #[arg(long, default_value = "https://stats.example.nl")]
        origin: String,
        /// Print only the integrity value (`sha384-…`).
        #[arg(long)]
        integrity: bool,
        /// The configuration, to choose the build from the site's notice.
        #[arg(long, short, env = "KRUIMEL_CONFIG")]
        config: Option<PathBuf>,
        /// The tracker alone, whatever the configuration says: for pages
        /// with a consent tool of their own (`data-consent="off"`).
        #[arg(long)]
        tracker_only: bool,
    },
    /// Manage dashboard users (the users file; see `[dashboard]`).
    User {
        /// TOML configuration file: the users file is `dashboard.users_file`, or `users.toml` in the data directory.
        #[arg(long, short, env = "KRUIMEL_CONFIG", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Convert an embedded database written by an earlier Kruimel (the server
    /// refuses to start on one). Stop the server first and keep a copy of
    /// the file: a converted file cannot be read by the earlier version.
    Migrate {
        /// TOML configuration file; without one, defaults and KRUIMEL_* variables apply.
        #[arg(long, short, env = "KRUIMEL_CONFIG")]
        config: Option<PathBuf>,
        /// Report what the file holds and what converting it would do;
        /// change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the stored form of a stats API token, for `tokens = [...]`.
    HashToken {
        /// The token as clients will send it (use a long random string).
        token: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user; the password is asked for on the terminal, twice, or
    /// read from stdin with --password-stdin.
    Add {
        /// The user's sign-in name.
        name: String,
        /// SITE=ROLE, ROLE viewer or admin; repeat for more sites.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Read the password from the first line of stdin instead of asking
        /// on the terminal (scripts, containers, CI).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (their sessions end).
    Passwd {
        /// The user's sign-in name.
        name: String,
        /// Read the password from the first line of stdin instead of asking
        /// on the terminal (scripts, containers, CI).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a role on a site: SITE=ROLE.
    Grant {
        /// The user's sign-in name.
        name: String,
        /// SITE=ROLE, ROLE viewer or admin.
        grant: String,
    },
    /// Take a site away from a user.
    Revoke {
        /// The user's sign-in name.
        name: String,
        /// The site's id.
        site: String,
    },
    /// Give a user a new TOTP second factor and print its otpauth:// URI
    /// (for an authenticator app), or remove it with --off.
    Totp {
        /// The user's sign-in name.
        name: String,
        /// Remove the second factor instead.
        #[arg(long)]
        off: bool,
    },
    /// Lift a user's sign-in lockout from every network (written to the
    /// audit log).
    Unlock {
        /// The user's sign-in name.
        name: String,
    },
    /// Remove a user (their sessions end).
    Remove {
        /// The user's sign-in name.
        name: String,
    },
    /// List users: name, second factor, roles.
    List,
}

/// Why asking for a password failed, and what to do instead: without a
/// terminal (a container, a script, CI) there is nowhere to ask.
const NO_TERMINAL: &str = "stdin is not a terminal to ask for the password on; \
give it on stdin instead, for example: \
printf '%s\\n' \"$PASSWORD\" | kruimel user add NAME --site SITE=viewer --password-stdin";

/// A new password: one line from stdin, or asked twice on the terminal.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    // Checked first, so a piped password is never silently ignored in
    // favour of a prompt on a controlling terminal.
    anyhow::ensure!(std::io::stdin().is_terminal(), NO_TERMINAL);
    let first = rpassword::prompt_password("Password: ").context(NO_TERMINAL)?;
    let again = rpassword::prompt_password("Again: ").context(NO_TERMINAL)?;
    anyhow::ensure!(first == again, "the passwords differ");
    Ok(first)
}

fn user(config: Option<PathBuf>, action: UserAction) -> anyhow::Result<()> {
    let config = config::load(config.as_deref(), std::env::vars())?;
    let mut users = Manager::open(&config)?;
    match action {
        UserAction::Add {
            name,
            sites,
            password_stdin,
        } => users.add(&name, &read_password(password_stdin)?, &sites)?,
        UserAction::Passwd {
            name,
            password_stdin,
        } => users.set_password(&name, &read_password(password_stdin)?)?,
        UserAction::Grant { name, grant } => users.grant(&name, &grant)?,
        UserAction::Revoke { name, site } => users.revoke(&name, &site)?,
        UserAction::Totp { name, off: true } => users.disable_totp(&name)?,
        UserAction::Totp { name, off: false } => println!("{}", users.enable_totp(&name)?),
        UserAction::Unlock { name } => users.unlock(&name, jiff::Timestamp::now().as_second())?,
        UserAction::Remove { name } => users.remove(&name)?,
        UserAction::List => users.list().iter().for_each(|line| println!("{line}")),
    }
    Ok(())
}

fn migrate(path: Option<PathBuf>, dry_run: bool) -> anyhow::Result<()> {
    let config = config::load(path.as_deref(), std::env::vars())?;
    anyhow::ensure!(
        config.store.backend == config::Backend::Embedded,
        "the store is Redis: there is no file to convert"
    );
    let run = if dry_run {
        MigrationRun::DryRun
    } else {
        MigrationRun::Convert
    };
    let today = jiff::Timestamp::now().as_second().div_euclid(86_400) as i32;
    let done = Embedded::migrate(
        &config.server.data_dir,
        config.store.cache_bytes(),
        today,
        run,
    )?;
    println!(
        "{}: schema {}, {} site(s), {} open rows, {} sealed days and months in the earlier layout, {} bytes",
        done.path,
        done.schema,
        done.sites.len(),
        done.open_rows,
        done.units_in_blocks,
        done.bytes_before
    );
    match (run, done.bytes_after) {
        (_, Some(after)) => println!(
            "converted: {} rows of finished days sealed, {} days and months rewritten in pieces; \
             the file is now {after} bytes",
            done.sealed_rows, done.repacked_units
        ),
        (_, None) if done.was_current() => {
            println!("already in the current format: nothing to do")
        }
        (_, None) => println!(
            "dry run: `kruimel migrate` would seal the rows of days before yesterday into \
             compact days, rewrite sealed days and months of the earlier layout in \
             page-sized pieces, compact the file and mark it converted; nothing was changed"
        ),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Snippet {
            site,
            origin,
            integrity,
            config: path,
            tracker_only,
        } => {
            let build = match (tracker_only, path) {
                (true, _) => &script::TRACKER,
                (false, None) => &script::FULL,
                (false, Some(path)) => {
                    let config = config::load(Some(&path), std::env::vars())?;
                    let Some(configured) = config.sites.iter().find(|entry| entry.id == site)
                    else {
                        anyhow::bail!("site {site:?} is not in {}", path.display());
                    };
                    script::build_for(&configured.consent)
                }
            };
            if integrity {
                println!("{}", build.integrity());
            } else {
                println!("{}", build.embed_tag(&origin, &site));
            }
            Ok(())
        }
        Command::HashToken { token } => {
            println!("{}", TokenHash::of_token(&token).stored_form());
            Ok(())
        }
        Command::CheckConfig { config: path } => {
            let config = config::load(path.as_deref(), std::env::vars())?;
            let checked = reload::check(&config)?;
            println!(
                "configuration is valid: {} site(s), public {}, admin {}, country database {}",
                checked.sites.len(),
                config.server.listen,
                config.server.admin_listen,
                if checked.countries.is_some() {
                    "loaded"
                } else {
                    "none"
                }
            );
            // What the privacy page cannot say yet: for the webmaster, not the page.
            let modified = path.as_deref().and_then(disclosure::modified_on);
            for gap in disclosure::gaps(&config, modified) {
                eprintln!("{}", gap.line());
            }
            Ok(())
        }
        Command::Healthcheck { config } => {
            let config = config::load(config.as_deref(), std::env::vars())?;
            let admin = probe::reachable(config.server.admin_listen);
            if let Err(problem) = probe::healthz(admin, Duration::from_secs(2)) {
                eprintln!("unhealthy: {problem}");
                std::process::exit(1);
            }
            Ok(())
        }
        Command::User { config, action } => user(config, action),
        Command::Migrate { config, dry_run } => migrate(config, dry_run),
        Command::Serve { config } => serve(config),
    }
}

fn serve(path: Option<PathBuf>) -> anyhow::Result<()> {
    let config = config::load(path.as_deref(), std::env::vars())?;
    startup::init_logging(&config.log)?;
    // Every connection, idle ones too, holds a file descriptor.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files limit"),
        Err(error) => tracing::warn!(%error, "open files limit unchanged"),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server.request_threads())
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(async {
        let listeners = Listeners {
            public: tokio::net::TcpListener::bind(config.server.listen)
                .await
                .with_context(|| format!("binding public listener {}", config.server.listen))?,
            admin: tokio::net::TcpListener::bind(config.server.admin_listen)
                .await
                .with_context(|| {
                    format!("binding admin listener {}", config.server.admin_listen)
                })?,
        };
        let source = Box::new(move || config::load(path.as_deref(), std::env::vars()));
        startup::run(config, source, listeners, shutdown_signal()).await
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
