//! Loading: defaults <- TOML file <- `HEARTH_*` environment, then validation.

use std::{fmt, fs, path::Path};

use toml::{Table, Value};

use super::Config;

/// A configuration problem, naming the key at fault. The binary exits with status 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

const ENV_PREFIX: &str = "HEARTH_";
/// Variables with the prefix that are not configuration keys.
const NOT_KEYS: &[&str] = &["HEARTH_CONFIG"];

/// Load the configuration from an optional file and the given environment variables.
///
/// `HEARTH_SECTION__KEY=value` sets `key` in `[section]`; the value is read as TOML when it
/// parses as a TOML value (numbers, booleans, arrays), as a plain string otherwise.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table = match file {
        Some(path) => read_file(path)?,
        None => Table::new(),
    };
    apply_env(&mut table, env)?;
    let mut config: Config = deserialize(table)?;
    config.from_file = file.is_some();
    validate(&config)?;
    Ok(config)
}

fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    text.parse::<Table>()
        .map_err(|e| ConfigError(format!("config file {} is not valid TOML: {e}", path.display())))
}

fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let known = known_top_level_keys();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        if NOT_KEYS.contains(&name.as_str()) || rest.is_empty() {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if !known.contains(&path[0].as_str()) {
            // Other tools share the prefix (e.g. test harnesses); only our sections are ours.
            tracing::warn!("ignoring environment variable {name}: not a configuration key");
            continue;
        }
        set_path(table, &path, parse_env_value(&raw))
            .map_err(|e| ConfigError(format!("environment variable {name}: {e}")))?;
    }
    Ok(())
}

fn parse_env_value(raw: &str) -> Value {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

fn set_path(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut current = table;
    for key in parents {
        let entry = current.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
        current = entry.as_table_mut().ok_or_else(|| format!("`{key}` is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

fn known_top_level_keys() -> Vec<&'static str> {
    // Deserializing an empty table with one unknown key makes serde list the known ones; simpler
    // to keep the list here, checked by a test against the struct.
    vec![
        "server_name",
        "public_baseurl",
        "data_dir",
        "log",
        "http",
        "database",
        "registration",
        "login",
        "rate_limits",
        "well_known",
        "user_directory",
        "rooms",
        "presence",
        "media",
        "push",
    ]
}

fn deserialize(table: Table) -> Result<Config, ConfigError> {
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        if key == "." || key.is_empty() {
            ConfigError(format!("config: {inner}"))
        } else {
            ConfigError(format!("config key `{key}`: {inner}"))
        }
    })
}

/// Supported room versions, oldest first.
pub const ROOM_VERSIONS: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"];

fn validate(config: &Config) -> Result<(), ConfigError> {
    if config.http.listen.is_empty() {
        return Err(ConfigError("config key `http.listen`: at least one address is needed".into()));
    }
    if config.http.max_request_bytes == 0 {
        return Err(ConfigError("config key `http.max_request_bytes`: must be above 0".into()));
    }
    if config.database.read_connections == 0 {
        return Err(ConfigError("config key `database.read_connections`: must be above 0".into()));
    }
    if !ROOM_VERSIONS.contains(&config.rooms.default_version.as_str()) {
        return Err(ConfigError(format!(
            "config key `rooms.default_version`: unsupported room version {:?} (supported: {})",
            config.rooms.default_version,
            ROOM_VERSIONS.join(", ")
        )));
    }
    for (key, rate) in [
        ("login_per_ip", config.rate_limits.login_per_ip),
        ("login_per_account", config.rate_limits.login_per_account),
        ("registration_per_ip", config.rate_limits.registration_per_ip),
        ("messages_per_user", config.rate_limits.messages_per_user),
        ("key_requests_per_device", config.rate_limits.key_requests_per_device),
    ] {
        if !rate.per_second.is_finite() || rate.per_second <= 0.0 || rate.burst == 0 {
            return Err(ConfigError(format!(
                "config key `rate_limits.{key}`: per_second and burst must be above 0"
            )));
        }
    }
    if config.presence.idle_timeout_ms == 0 || config.presence.offline_timeout_ms == 0 {
        return Err(ConfigError(
            "config keys `presence.idle_timeout_ms` and `presence.offline_timeout_ms`: must be \
             above 0"
                .into(),
        ));
    }
    config.media.validate().map_err(ConfigError)?;
    config.push.validate().map_err(ConfigError)?;
    if let Some(url) = &config.public_baseurl
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(ConfigError("config key `public_baseurl`: must be an http(s) URL".into()));
    }
    Ok(())
}

/// Make sure the data directory exists (creating it when `create`) and is writable.
pub fn check_data_dir(config: &Config, create: bool) -> Result<(), ConfigError> {
    let dir = &config.data_dir;
    let fail =
        |what: String| ConfigError(format!("config key `data_dir` ({}): {what}", dir.display()));
    if create {
        fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create: {e}")))?;
    }
    let probe_dir = if dir.exists() {
        dir.clone()
    } else {
        match dir.parent() {
            Some(p) if p.as_os_str().is_empty() => std::path::PathBuf::from("."),
            Some(p) => p.to_path_buf(),
            None => return Err(fail("has no parent directory".into())),
        }
    };
    if !probe_dir.is_dir() {
        return Err(fail("is not a directory".into()));
    }
    let probe = probe_dir.join(format!(".hearth-write-probe-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| fail(format!("not writable: {e}")))?;
    let _ = fs::remove_file(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn zero_config_defaults() {
        let config = load(None, env(&[])).unwrap();
        assert_eq!(config.server_name.as_str(), "localhost");
        assert!(config.registration_open());
        assert_eq!(config.public_baseurl(), "http://127.0.0.1:8008");
    }

    #[test]
    fn env_overrides_nested_keys() {
        let config = load(
            None,
            env(&[
                ("HEARTH_REGISTRATION__ENABLED", "false"),
                ("HEARTH_SERVER_NAME", "example.org"),
            ]),
        )
        .unwrap();
        assert!(!config.registration_open());
        assert_eq!(config.server_name.as_str(), "example.org");
    }

    #[test]
    fn unknown_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        fs::write(&path, "[registration]\nopen = true\n").unwrap();
        let err = load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(err.contains("registration"), "{err}");
        assert!(err.contains("open"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = load(None, env(&[("HEARTH_HTTP__MAX_REQUEST_BYTES", "\"lots\"")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("http.max_request_bytes"), "{err}");
    }

    #[test]
    fn file_closes_registration_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        fs::write(&path, "server_name = \"example.org\"\n").unwrap();
        assert!(!load(Some(&path), env(&[])).unwrap().registration_open());
    }

    #[test]
    fn every_section_is_known_to_the_env_loader() {
        let text = toml::to_string(&toml::Table::new()).unwrap();
        assert!(text.is_empty());
        for key in known_top_level_keys() {
            let err = load(None, env(&[(&format!("HEARTH_{}__NOPE", key.to_uppercase()), "1")]));
            // Sections reject the unknown sub-key; plain keys reject the table value.
            assert!(err.is_err(), "{key}");
        }
    }
}
