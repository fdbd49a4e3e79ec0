//! Service managers: a listening socket handed over by systemd socket
//! activation (`LISTEN_FDS`, `LISTEN_PID`) or by launchd (macOS, the
//! `launchd` module), and readiness and stopping
//! notices for `Type=notify` units (`sd_notify`, a no-op without
//! `NOTIFY_SOCKET`).

use std::os::unix::net::UnixListener;

/// The socket a service manager passed us: systemd's first (`LISTEN_FDS`),
/// or on macOS launchd's `Listeners` socket.
pub fn inherited_listener() -> Option<UnixListener> {
    #[cfg(target_os = "macos")]
    if std::env::var_os("LISTEN_FDS").is_none() {
        return super::launchd::activated_socket("Listeners");
    }
    systemd_listener()
}

/// The first socket systemd passed us, if it passed one to this process.
fn systemd_listener() -> Option<UnixListener> {
    let mut fds = listenfd::ListenFd::from_env();
    match fds.take_unix_listener(0) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "LISTEN_FDS is set but its socket is not a Unix stream socket; ignoring it");
            None
        }
    }
}

/// Tell the service manager the daemon serves.
pub fn ready() {
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::debug!(error = %e, "sd_notify READY failed");
    }
}

/// Tell the service manager the daemon is stopping.
pub fn stopping() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
}
