//! The one error type of the crate. Every message is a single line that names the layer that
//! failed and, where there is one, the fix: it is what `tandem-sandbox` prints before exit 125.

use std::fmt;
use std::io;

/// The isolation layer a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    UserNamespace,
    Namespaces,
    Mounts,
    Proc,
    Landlock,
    Seccomp,
    Privileges,
    ResourceLimits,
    Process,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::UserNamespace => "user namespace",
            Layer::Namespaces => "mount/pid/net/ipc namespaces",
            Layer::Mounts => "mount plan",
            Layer::Proc => "/proc",
            Layer::Landlock => "landlock",
            Layer::Seccomp => "seccomp",
            Layer::Privileges => "privilege drop",
            Layer::ResourceLimits => "resource limits",
            Layer::Process => "process setup",
        })
    }
}

/// Why the sandbox could not be set up. The command never runs when one of these is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The policy itself is unusable (a root that does not exist, `/` as a root, ...).
    #[error("invalid sandbox policy: {0}")]
    InvalidPolicy(String),

    /// The kernel refused to create a user namespace. This is the hardened-host case.
    #[error(
        "user namespaces are unavailable ({detail}): enable them (sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces>0; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0), or opt in to the Landlock-only fallback with --allow-landlock-only / allow_landlock_only_fallback"
    )]
    UserNamespacesUnavailable { detail: String },

    /// Landlock is not compiled in or not enabled at boot.
    #[error(
        "landlock is unavailable ({detail}): boot with landlock in the lsm= list (CONFIG_SECURITY_LANDLOCK=y), or pass --allow-no-landlock / allow_without_landlock to rely on the mount layer alone"
    )]
    LandlockUnavailable { detail: String },

    /// A layer failed while being set up.
    #[error("{layer} could not be enforced: {detail}")]
    Layer { layer: Layer, detail: String },

    /// An I/O error outside the layers (reading a policy file, creating pipes...).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// The session zygote died or closed its socket.
    #[error("the session sandbox is gone: {0}")]
    SessionClosed(String),

    /// The zygote and the library disagree about the wire format (a version mismatch).
    #[error("sandbox protocol error: {0}")]
    Protocol(String),

    /// A failure reported by the sandbox init from inside the namespaces, verbatim.
    /// `namespace` is true when the namespaces themselves were unusable.
    #[error("{message}")]
    Relayed { message: String, namespace: bool },

    /// The request makes no sense in this mode (e.g. a zygote for danger-full-access).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl SandboxError {
    /// A layer failure from an OS error.
    pub(crate) fn layer(layer: Layer, what: impl fmt::Display, err: impl fmt::Display) -> Self {
        SandboxError::Layer {
            layer,
            detail: format!("{what}: {err}"),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the failure is about namespaces being unusable on this host, i.e. the
    /// situation the opt-in Landlock-only fallback exists for.
    pub fn is_namespace_unavailable(&self) -> bool {
        matches!(
            self,
            SandboxError::UserNamespacesUnavailable { .. }
                | SandboxError::Relayed {
                    namespace: true,
                    ..
                }
                | SandboxError::Layer {
                    layer: Layer::UserNamespace | Layer::Namespaces,
                    ..
                }
        )
    }
}

/// Result alias for the crate.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;
