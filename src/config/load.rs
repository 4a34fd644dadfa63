//! Loading: a TOML file overlaid with `KRUIMEL_*` environment variables.
//!
//! `KRUIMEL_SERVER__LISTEN=0.0.0.0:8080` sets `server.listen`; a double
//! underscore descends one table. Values are read as TOML values when they
//! parse as one (`24`, `true`, `["a", "b"]`, `[{ id = "x.nl" }]`) and as
//! plain strings otherwise, so whole site lists fit in one variable.
//! The environment is an argument: tests never touch the process environment.

use std::path::{Path, PathBuf};

use super::Config;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {name} cannot be applied: {message}")]
    Variable { name: String, message: String },
    #[error("invalid configuration: {0}")]
    Shape(String),
}

/// Variables with this prefix override the file.
const PREFIX: &str = "KRUIMEL_";
/// Variables that steer the command line rather than the configuration tree.
const NOT_SETTINGS: &[&str] = &["KRUIMEL_CONFIG"];
/// What Kubernetes sets for a Service named `kruimel` (`KRUIMEL_PORT`,
/// `KRUIMEL_PORT_8080_TCP_ADDR`, `KRUIMEL_SERVICE_HOST`, …): not settings.
const SERVICE_LINKS: &[&str] = &["KRUIMEL_PORT", "KRUIMEL_SERVICE_"];

fn is_setting(name: &str) -> bool {
    name.starts_with(PREFIX)
        && !NOT_SETTINGS.contains(&name)
        && !SERVICE_LINKS.iter().any(|link| name.starts_with(link))
}

pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut tree = match file {
        Some(path) => read_file(path)?,
        None => toml::Table::new(),
    };
    let mut overrides: Vec<(String, String)> = env
        .into_iter()
        .filter(|(name, _)| is_setting(name))
        .collect();
    // Deterministic order by name (stable: a name given twice keeps its later value).
    overrides.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in overrides {
        apply_variable(&mut tree, &name, &value)?;
    }
    let mut config: Config = toml::Value::Table(tree)
        .try_into()
        .map_err(|error: toml::de::Error| ConfigError::Shape(error.message().to_owned()))?;
    config.inherit_register();
    Ok(config)
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    text.parse::<toml::Table>()
        .map_err(|error| ConfigError::File {
            path: path.to_owned(),
            message: error.to_string(),
        })
}

fn apply_variable(tree: &mut toml::Table, name: &str, value: &str) -> Result<(), ConfigError> {
    let keys: Vec<String> = name[PREFIX.len()..]
        .split("__")
        .map(str::to_ascii_lowercase)
        .collect();
    if keys.iter().any(String::is_empty) {
        return Err(ConfigError::Variable {
            name: name.to_owned(),
            message: "empty key".to_owned(),
        });
    }
    let (last, parents) = keys.split_last().expect("split yields at least one key");
    let mut table = tree;
    for key in parents {
        let entry = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| ConfigError::Variable {
            name: name.to_owned(),
            message: format!("`{key}` is not a table"),
        })?;
    }
    table.insert(last.clone(), parse_value(value));
    Ok(())
}

fn parse_value(text: &str) -> toml::Value {
    format!("value = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SignalPolicy;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn defaults_bind_to_loopback() {
        let config = load(None, env(&[])).unwrap();
        assert!(config.server.listen.ip().is_loopback());
        assert!(config.server.admin_listen.ip().is_loopback());
        assert_ne!(config.server.listen, config.server.admin_listen);
    }

    #[test]
    fn environment_variables_override_nested_settings() {
        let config = load(
            None,
            env(&[
                ("KRUIMEL_SERVER__LISTEN", "0.0.0.0:8000"),
                ("KRUIMEL_PRIVACY__IPV4_PREFIX", "16"),
                ("KRUIMEL_PRIVACY__GPC", "drop"),
                ("KRUIMEL_SERVER__TRUSTED_PROXIES", r#"["10.0.0.0/8"]"#),
                ("OTHER_VARIABLE", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:8000");
        assert_eq!(config.privacy.ipv4_prefix, 16);
        assert_eq!(config.privacy.gpc, SignalPolicy::Drop);
        assert_eq!(config.server.trusted_proxies.len(), 1);
    }

    #[test]
    fn the_redis_backend_is_chosen_and_placed_by_the_environment() {
        let config = load(
            None,
            env(&[
                ("KRUIMEL_STORE__BACKEND", "redis"),
                (
                    "KRUIMEL_STORE__REDIS__URLS",
                    r#"["redis://10.0.0.1:7000/", "redis://10.0.0.2:7000/"]"#,
                ),
                ("KRUIMEL_STORE__REDIS__CLUSTER", "true"),
                ("KRUIMEL_STORE__REDIS__KEY_PREFIX", "gem"),
            ]),
        )
        .unwrap();
        assert_eq!(config.store.backend, crate::config::Backend::Redis);
        assert_eq!(config.store.redis.urls.len(), 2);
        assert!(config.store.redis.cluster);
        assert_eq!(config.store.redis.key_prefix, "gem");
        assert!(config.store.redis.hot_urls.is_empty());
        let defaults = load(None, env(&[])).unwrap();
        assert_eq!(defaults.store.backend, crate::config::Backend::Embedded);
    }

    #[test]
    fn the_page_cache_is_bounded_and_never_zero() {
        let defaults = load(None, env(&[])).unwrap();
        assert_eq!(defaults.store.cache_mb.get(), 32);
        let config = load(None, env(&[("KRUIMEL_STORE__CACHE_MB", "512")])).unwrap();
        assert_eq!(config.store.cache_mb.get(), 512);
        let error = load(None, env(&[("KRUIMEL_STORE__CACHE_MB", "0")])).unwrap_err();
        assert!(error.to_string().contains("nonzero"), "{error}");
    }

    #[test]
    fn kubernetes_service_links_are_not_settings() {
        let config = load(
            None,
            env(&[
                ("KRUIMEL_PORT", "tcp://10.0.0.7:8080"),
                ("KRUIMEL_PORT_8080_TCP_ADDR", "10.0.0.7"),
                ("KRUIMEL_SERVICE_HOST", "10.0.0.7"),
                ("KRUIMEL_SERVICE_PORT", "8080"),
                ("KRUIMEL_PRIVACY__IPV4_PREFIX", "16"),
            ]),
        )
        .unwrap();
        assert_eq!(config.privacy.ipv4_prefix, 16);
        assert!(load(None, env(&[("KRUIMEL_SERVER__PORT", "1")])).is_err());
    }

    #[test]
    fn a_whole_site_list_fits_in_one_variable() {
        let config = load(
            None,
            env(&[(
                "KRUIMEL_SITES",
                r#"[{ id = "gemeente.example", hostnames = ["www.gemeente.example"] }]"#,
            )]),
        )
        .unwrap();
        assert_eq!(config.sites[0].id, "gemeente.example");
        assert_eq!(config.sites[0].time_zone, "Europe/Amsterdam");
    }

    #[test]
    fn the_register_comes_from_the_environment_and_sites_inherit_it() {
        let config = load(
            None,
            env(&[
                ("KRUIMEL_REGISTER__CONTROLLER__NAME", "Gemeente Voorbeeld"),
                ("KRUIMEL_REGISTER__DPO", r#"{ name = "FG", email = "fg@g.example" }"#),
                ("KRUIMEL_REGISTER__PROCESSOR", "none"),
                ("KRUIMEL_REGISTER__UPDATED", "2026-03-01"),
                (
                    "KRUIMEL_SITES",
                    r#"[{ id = "a.example" }, { id = "b.example", register = { controller = { name = "Regio" } } }]"#,
                ),
            ]),
        )
        .unwrap();
        let [own, other] = [&config.sites[0].register, &config.sites[1].register];
        assert_eq!(own.controller.as_ref().unwrap().name, "Gemeente Voorbeeld");
        assert_eq!(other.controller.as_ref().unwrap().name, "Regio");
        assert_eq!(
            other.dpo.as_ref().unwrap().email.as_deref(),
            Some("fg@g.example")
        );
        assert_eq!(
            other.processor,
            Some(crate::config::Processor::SelfHosted(
                crate::config::NoProcessor::None
            ))
        );
        assert_eq!(other.updated.unwrap().0, jiff::civil::date(2026, 3, 1));
        let typo = load(None, env(&[("KRUIMEL_REGISTER__CONTROLER__NAME", "x")]));
        assert!(typo.unwrap_err().to_string().contains("controler"));
    }

    #[test]
    fn a_variable_given_twice_keeps_its_later_value() {
        let config = load(
            None,
            env(&[
                ("KRUIMEL_PRIVACY__IPV4_PREFIX", "24"),
                ("KRUIMEL_PRIVACY__IPV4_PREFIX", "16"),
            ]),
        )
        .unwrap();
        assert_eq!(config.privacy.ipv4_prefix, 16);
    }

    #[test]
    fn request_threads_are_one_per_core_unless_chosen() {
        let automatic = load(None, env(&[])).unwrap().server;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(automatic.request_threads(), cores);
        let chosen = load(None, env(&[("KRUIMEL_SERVER__WORKER_THREADS", "3")]))
            .unwrap()
            .server;
        assert_eq!(chosen.request_threads(), 3);
    }

    #[test]
    fn unknown_settings_are_refused() {
        let error = load(None, env(&[("KRUIMEL_SERVER__LISTNE", "x")])).unwrap_err();
        assert!(error.to_string().contains("listne"), "{error}");
    }

    #[test]
    fn the_config_variable_names_a_file_not_a_setting() {
        assert!(load(None, env(&[("KRUIMEL_CONFIG", "kruimel.toml")])).is_ok());
    }

    #[test]
    fn token_hashes_never_print() {
        let config = load(
            None,
            env(&[(
                "KRUIMEL_SITES",
                &format!(
                    r#"[{{ id = "a.example", tokens = ["{}"] }}]"#,
                    crate::config::TokenHash::of_token("secret").stored_form()
                ),
            )]),
        )
        .unwrap();
        let printed = format!("{config:?}");
        assert!(printed.contains("***"));
        assert!(!printed.contains(&blake3::hash(b"secret").to_hex().to_string()));
        assert!(config.sites[0].tokens[0].matches("secret"));
        assert!(!config.sites[0].tokens[0].matches("Secret"));
    }
}
