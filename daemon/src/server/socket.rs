//! Socket hygiene: the socket's folder must be a real folder (not a symlink)
//! owned by this user with mode 0700; the socket itself is 0600. A socket
//! that answers belongs to another daemon and is left alone; a dead one is
//! removed; anything else at the path is refused rather than deleted.

use std::fs::{self, DirBuilder};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use skilld_proto::paths::MAX_SOCKET_PATH;

use super::StartError;

/// This process's effective uid.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StartError {
    let path = path.to_path_buf();
    move |source| StartError::Io { path, op, source }
}

/// Create `dir` (0700) if missing, else check it is a folder we own, and
/// tighten its mode to 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<(), StartError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io(dir, "create folder"))?;
        }
        Err(e) => return Err(io(dir, "inspect folder")(e)),
        Ok(_) => {}
    }
    let meta = fs::symlink_metadata(dir).map_err(io(dir, "inspect folder"))?;
    let refuse = |problem: String| StartError::UnsafeDir {
        path: dir.to_path_buf(),
        problem,
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(
            "is a symbolic link; the socket folder must be a real folder".into(),
        ));
    }
    if !meta.is_dir() {
        return Err(refuse("is not a folder".into()));
    }
    if meta.uid() != euid() {
        return Err(refuse(format!(
            "is owned by uid {}, not by you (uid {}); remove it or choose another path",
            meta.uid(),
            euid()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io(dir, "set mode 0700 on"))?;
    }
    Ok(())
}

/// Clear the way for a new socket at `path`: fail if a daemon answers there,
/// remove a dead socket, refuse any other kind of file.
pub fn clear_stale(path: &Path) -> Result<(), StartError> {
    let meta = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(path, "inspect socket")(e)),
        Ok(meta) => meta,
    };
    if !meta.file_type().is_socket() {
        return Err(StartError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(StartError::SocketInUse {
            path: path.to_path_buf(),
        }),
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) => {
            tracing::info!(socket = %path.display(), "removing a stale socket left by a dead daemon");
            match fs::remove_file(path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    Err(io(path, "remove stale socket")(e))
                }
                _ => Ok(()),
            }
        }
        Err(e) => Err(io(path, "probe socket")(e)),
    }
}

/// Bind a listening socket at `path` (its folder already checked) with mode 0600.
pub fn bind_private(path: &Path) -> Result<UnixListener, StartError> {
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(StartError::PathTooLong {
            path: path.to_path_buf(),
        });
    }
    let listener = UnixListener::bind(path).map_err(io(path, "bind socket"))?;
    // The folder is 0700 so nobody else could connect in between.
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(io(path, "set mode 0600 on"))?;
    listener
        .set_nonblocking(true)
        .map_err(io(path, "set non-blocking on"))?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dir_is_created_0700_and_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/run");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn symlinked_dir_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let real = root.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = ensure_private_dir(&link).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }

    #[test]
    fn non_socket_file_is_refused_not_deleted() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("skilld.sock");
        fs::write(&path, "precious").unwrap();
        let err = clear_stale(&path).unwrap_err().to_string();
        assert!(err.contains("not a socket"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    }

    #[test]
    fn live_socket_is_kept_and_dead_one_removed() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("skilld.sock");
        let live = UnixListener::bind(&path).unwrap();
        assert!(matches!(
            clear_stale(&path),
            Err(StartError::SocketInUse { .. })
        ));
        drop(live);
        // The file stays behind after the listener closes: a stale socket.
        assert!(path.exists());
        clear_stale(&path).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn bound_socket_is_0600() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("s.sock");
        let _listener = bind_private(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    }
}
