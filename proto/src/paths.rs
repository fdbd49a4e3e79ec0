//! Where the daemon's files live, resolved once from flags and environment.
//!
//! The daemon and the client resolve the same [`Paths`] from the same inputs,
//! so `skillc` finds the socket a `skilld` started from the same shell made.
//! Order of precedence, per path: an explicit flag, then `SKILLD_SOCKET` /
//! `SKILLD_HOME`, then the XDG base directories, then the platform default
//! from the `directories` crate. An empty or relative `XDG_*` variable counts
//! as unset, as the XDG specification says.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Environment variable: one root folder for config, data and socket.
pub const ENV_HOME: &str = "SKILLD_HOME";
/// Environment variable: the socket path.
pub const ENV_SOCKET: &str = "SKILLD_SOCKET";
/// Name of the application folder under the XDG base directories.
pub const APP_DIR: &str = "skilld";
/// File name of the socket inside its folder.
pub const SOCKET_FILE: &str = "skilld.sock";

/// The longest socket path every supported platform accepts (macOS
/// `sun_path` holds 104 bytes including the terminating NUL).
pub const MAX_SOCKET_PATH: usize = 103;

/// Every path the daemon and client use. Resolved once at start-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Paths {
    /// `config.yaml`; a missing file means defaults.
    pub config_file: PathBuf,
    /// Root of the daemon's data: the store, the index and the lock.
    pub data_dir: PathBuf,
    /// The OCI image layout holding every blob.
    pub store_dir: PathBuf,
    /// The SQLite index.
    pub index_db: PathBuf,
    /// The Unix socket the API listens on.
    pub socket: PathBuf,
    /// Held (flock) by the running daemon: one daemon per data folder.
    pub lock_file: PathBuf,
    /// Held by a client while it starts a daemon, so two clients don't start two.
    pub autostart_lock: PathBuf,
    /// Where a daemon started by the client writes its log.
    pub autostart_log: PathBuf,
}

/// Explicit choices that win over the environment (command-line flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub home: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

/// What path resolution reads from the outside world; a trait so tests can
/// resolve paths for a fake environment.
pub trait Env {
    /// An environment variable.
    fn var(&self, key: &str) -> Option<OsString>;
    /// The platform's per-user configuration folder (e.g. `~/.config`).
    fn default_config_dir(&self) -> Option<PathBuf>;
    /// The platform's per-user data folder (e.g. `~/.local/share`).
    fn default_data_dir(&self) -> Option<PathBuf>;
}

/// The real process environment and the `directories` crate.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }
    fn default_config_dir(&self) -> Option<PathBuf> {
        directories::BaseDirs::new().map(|d| d.config_dir().to_path_buf())
    }
    fn default_data_dir(&self) -> Option<PathBuf> {
        directories::BaseDirs::new().map(|d| d.data_dir().to_path_buf())
    }
}

/// Why paths could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathsError {
    /// Neither `SKILLD_HOME`, XDG variables nor a home folder are known.
    NoHome,
}

impl std::fmt::Display for PathsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathsError::NoHome => f.write_str(
                "cannot find a home folder for skilld's files; set HOME, or SKILLD_HOME=DIR to keep everything under DIR",
            ),
        }
    }
}

impl std::error::Error for PathsError {}

/// An absolute, non-empty path from the environment, else `None`.
fn absolute_var(env: &dyn Env, key: &str) -> Option<PathBuf> {
    let value = env.var(key)?;
    let path = PathBuf::from(value);
    path.is_absolute().then_some(path)
}

impl Paths {
    /// Resolve every path from explicit overrides and the real environment.
    pub fn from_env(overrides: &Overrides) -> Result<Paths, PathsError> {
        Paths::resolve(overrides, &ProcessEnv)
    }

    /// Resolve every path from explicit overrides and `env`.
    pub fn resolve(overrides: &Overrides, env: &dyn Env) -> Result<Paths, PathsError> {
        let home = overrides
            .home
            .clone()
            .or_else(|| absolute_var(env, ENV_HOME));
        let (config_file, data_dir, default_socket) = match home {
            Some(home) => (
                home.join("config.yaml"),
                home.clone(),
                home.join("run").join(SOCKET_FILE),
            ),
            None => {
                let config_dir = absolute_var(env, "XDG_CONFIG_HOME")
                    .or_else(|| env.default_config_dir())
                    .ok_or(PathsError::NoHome)?;
                let data_root = absolute_var(env, "XDG_DATA_HOME")
                    .or_else(|| env.default_data_dir())
                    .ok_or(PathsError::NoHome)?;
                let data_dir = data_root.join(APP_DIR);
                let socket = match absolute_var(env, "XDG_RUNTIME_DIR") {
                    Some(runtime) => runtime.join(APP_DIR).join(SOCKET_FILE),
                    None => data_dir.join("run").join(SOCKET_FILE),
                };
                (
                    config_dir.join(APP_DIR).join("config.yaml"),
                    data_dir,
                    socket,
                )
            }
        };
        let socket = overrides
            .socket
            .clone()
            .or_else(|| {
                env.var(ENV_SOCKET)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or(default_socket);
        let config_file = overrides.config.clone().unwrap_or(config_file);
        Ok(Paths {
            config_file,
            store_dir: data_dir.join("store"),
            index_db: data_dir.join("index.db"),
            lock_file: data_dir.join("skilld.lock"),
            autostart_lock: data_dir.join("autostart.lock"),
            autostart_log: data_dir.join("skilld.log"),
            data_dir,
            socket,
        })
    }

    /// The folder holding the socket.
    pub fn socket_dir(&self) -> &Path {
        self.socket.parent().unwrap_or(Path::new("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Env for FakeEnv {
        fn var(&self, key: &str) -> Option<OsString> {
            self.0.get(key).map(OsString::from)
        }
        fn default_config_dir(&self) -> Option<PathBuf> {
            Some(PathBuf::from("/home/u/.config"))
        }
        fn default_data_dir(&self) -> Option<PathBuf> {
            Some(PathBuf::from("/home/u/.local/share"))
        }
    }

    fn resolve(vars: &[(&'static str, &'static str)]) -> Paths {
        Paths::resolve(
            &Overrides::default(),
            &FakeEnv(vars.iter().copied().collect()),
        )
        .unwrap()
    }

    #[test]
    fn platform_defaults_without_xdg() {
        let p = resolve(&[]);
        assert_eq!(
            p.config_file,
            Path::new("/home/u/.config/skilld/config.yaml")
        );
        assert_eq!(p.data_dir, Path::new("/home/u/.local/share/skilld"));
        assert_eq!(p.store_dir, Path::new("/home/u/.local/share/skilld/store"));
        assert_eq!(
            p.index_db,
            Path::new("/home/u/.local/share/skilld/index.db")
        );
        assert_eq!(
            p.socket,
            Path::new("/home/u/.local/share/skilld/run/skilld.sock")
        );
    }

    #[test]
    fn xdg_variables_are_respected() {
        let p = resolve(&[
            ("XDG_CONFIG_HOME", "/x/conf"),
            ("XDG_DATA_HOME", "/x/data"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
        ]);
        assert_eq!(p.config_file, Path::new("/x/conf/skilld/config.yaml"));
        assert_eq!(p.data_dir, Path::new("/x/data/skilld"));
        assert_eq!(p.socket, Path::new("/run/user/1000/skilld/skilld.sock"));
    }

    #[test]
    fn empty_or_relative_xdg_counts_as_unset() {
        let p = resolve(&[
            ("XDG_CONFIG_HOME", ""),
            ("XDG_DATA_HOME", "relative/data"),
            ("XDG_RUNTIME_DIR", "./run"),
        ]);
        assert_eq!(p, resolve(&[]));
    }

    #[test]
    fn skilld_home_puts_everything_under_one_root() {
        let p = resolve(&[("SKILLD_HOME", "/h"), ("XDG_RUNTIME_DIR", "/run/user/1")]);
        assert_eq!(p.config_file, Path::new("/h/config.yaml"));
        assert_eq!(p.data_dir, Path::new("/h"));
        assert_eq!(p.index_db, Path::new("/h/index.db"));
        assert_eq!(p.socket, Path::new("/h/run/skilld.sock"));
    }

    #[test]
    fn skilld_socket_and_flags_win() {
        let p = resolve(&[("SKILLD_HOME", "/h"), ("SKILLD_SOCKET", "/s/sock")]);
        assert_eq!(p.socket, Path::new("/s/sock"));
        let env = FakeEnv([("SKILLD_HOME", "/h"), ("SKILLD_SOCKET", "/s/sock")].into());
        let overrides = Overrides {
            home: Some("/flag".into()),
            socket: Some("/flag/sock".into()),
            config: Some("/etc/c.yaml".into()),
        };
        let p = Paths::resolve(&overrides, &env).unwrap();
        assert_eq!(p.data_dir, Path::new("/flag"));
        assert_eq!(p.socket, Path::new("/flag/sock"));
        assert_eq!(p.config_file, Path::new("/etc/c.yaml"));
    }
}
