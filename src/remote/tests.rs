use super::*;
use std::collections::HashMap;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn remote(pairs: &[(&str, &str)]) -> Result<RemoteConfig, ConfigError> {
    RemoteConfig::from_lookup(&lookup(pairs))
}

#[test]
fn no_sources_is_fine_and_the_defaults_hold() {
    let c = remote(&[("HOME", "/home/et")]).unwrap();
    assert!(c.sources.is_empty());
    assert_eq!(c.poll, Duration::from_secs(10));
    assert_eq!(
        c.spool_dir,
        PathBuf::from("/home/et/.local/state/etprox/spool")
    );
}

#[test]
fn sftp_and_ftp_urls_are_parsed() {
    let key = tempfile::NamedTempFile::new().unwrap();
    let key_path = key.path().to_str().unwrap();
    let c = remote(&[
        ("HOME", "/home/et"),
        (
            "ETPROX_ROUND_SOURCES",
            "sftp://et@game.example.org:2222/home/et/legacy/stats\n ftp://bob:s%40cret@10.0.0.5/~/stats ftps://ann@host",
        ),
        ("ETPROX_SSH_KEY", key_path),
        ("ETPROX_FTP_PASSWORD", "from-env"),
        ("ETPROX_REMOTE_POLL_SECS", "2.5"),
        ("ETPROX_SPOOL_DIR", "/var/lib/etprox/spool"),
    ])
    .unwrap();
    assert_eq!(c.poll, Duration::from_millis(2500));
    assert_eq!(c.sources.len(), 3);
    let sftp = &c.sources[0];
    assert_eq!(sftp.protocol, Protocol::Sftp);
    assert_eq!(
        (sftp.user.as_str(), sftp.host.as_str(), sftp.port),
        ("et", "game.example.org", 2222)
    );
    assert_eq!(sftp.path, "/home/et/legacy/stats");
    assert_eq!(
        sftp.auth,
        Auth::SshKey {
            private_key: PathBuf::from(key_path),
            passphrase: None,
            known_hosts: PathBuf::from("/home/et/.ssh/known_hosts"),
        }
    );
    let ftp = &c.sources[1];
    assert_eq!(
        (ftp.protocol, ftp.port, ftp.path.as_str()),
        (Protocol::Ftp, 21, "stats")
    );
    // The password in the URL wins over ETPROX_FTP_PASSWORD, and is percent-decoded.
    match &ftp.auth {
        Auth::Password { password, .. } => assert_eq!(password.expose(), "s@cret"),
        other => panic!("{other:?}"),
    }
    let ftps = &c.sources[2];
    assert_eq!((ftps.protocol, ftps.path.as_str()), (Protocol::Ftps, "."));
    match &ftps.auth {
        Auth::Password { password, .. } => assert_eq!(password.expose(), "from-env"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sftp.spool_dir(&c.spool_dir).parent().unwrap(),
        Path::new("/var/lib/etprox/spool")
    );
}

#[test]
fn passwords_are_never_shown() {
    let c = remote(&[
        ("HOME", "/h"),
        ("ETPROX_ROUND_SOURCES", "ftp://bob:hunter2@host:2121/stats"),
    ])
    .unwrap();
    let source = &c.sources[0];
    for text in [
        source.to_string(),
        format!("{source:?}"),
        format!("{c:?}"),
        source.id(),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    assert_eq!(source.to_string(), "ftp://bob@host:2121/stats");
    // A URL that does not parse is not echoed with its password either.
    let e = remote(&[
        ("HOME", "/h"),
        ("ETPROX_ROUND_SOURCES", "ftp://bob:hunter2@ho st/x"),
    ])
    .unwrap_err();
    assert_eq!(e.variable, "ETPROX_ROUND_SOURCES");
    assert!(!e.message.contains("hunter2"), "{}", e.message);
}

#[test]
fn invalid_sources_name_the_variable_to_fix() {
    let home = ("HOME", "/h");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[home, ("ETPROX_ROUND_SOURCES", "http://x/y")],
            "ETPROX_ROUND_SOURCES",
        ),
        (
            &[home, ("ETPROX_ROUND_SOURCES", "sftp://host/y")],
            "ETPROX_ROUND_SOURCES",
        ),
        (
            &[home, ("ETPROX_ROUND_SOURCES", "sftp://et@host/y")],
            "ETPROX_SSH_KEY",
        ),
        (
            &[
                home,
                ("ETPROX_ROUND_SOURCES", "sftp://et@host/y"),
                ("ETPROX_SSH_KEY", "/no/such/key"),
            ],
            "ETPROX_SSH_KEY",
        ),
        (
            &[home, ("ETPROX_ROUND_SOURCES", "ftp://bob@host/y")],
            "ETPROX_FTP_PASSWORD",
        ),
        (
            &[
                home,
                ("ETPROX_ROUND_SOURCES", "ftp://a:b@h/x ftp://a:c@h/x"),
            ],
            "ETPROX_ROUND_SOURCES",
        ),
        (
            &[home, ("ETPROX_REMOTE_POLL_SECS", "soon")],
            "ETPROX_REMOTE_POLL_SECS",
        ),
        (
            &[("ETPROX_ROUND_SOURCES", "ftp://a:b@h/x")],
            "ETPROX_SPOOL_DIR",
        ),
    ];
    for (pairs, variable) in cases {
        let e = remote(pairs).unwrap_err();
        assert_eq!(e.variable, *variable, "{pairs:?}: {}", e.message);
    }
    // Anonymous FTP needs no password.
    remote(&[home, ("ETPROX_ROUND_SOURCES", "ftp://anonymous@host/pub")]).unwrap();
}

#[test]
fn source_errors_say_what_to_write() {
    let key = tempfile::NamedTempFile::new().unwrap();
    let key_path = key.path().to_str().unwrap();
    let parse = |url: &str, pairs: &[(&str, &str)]| parse_source(url, &lookup(pairs));
    let message = |url: &str, pairs: &[(&str, &str)]| {
        let e = parse(url, pairs).unwrap_err();
        format!("{}: {}", e.variable, e.message)
    };
    assert_eq!(
        message("gopher://h/x", &[]),
        "ETPROX_ROUND_SOURCES: gopher:// is not supported; use sftp://, ftp:// or ftps://"
    );
    assert_eq!(
        message("ftp://h:2121/x", &[]),
        "ETPROX_ROUND_SOURCES: ftp://@h:2121: give the user name, as ftp://USER@h/…"
    );
    assert_eq!(
        message("ftp://a:b@h/x?y", &[]),
        "ETPROX_ROUND_SOURCES: ftp://a@h:21: a URL with ? or # is not supported"
    );
    assert_eq!(
        message("ftps://bob@[::1]/x", &[]),
        "ETPROX_FTP_PASSWORD: ftps://bob@::1:21 needs a password: set ETPROX_FTP_PASSWORD or write it in the URL as ftps://bob:PASSWORD@::1/…"
    );
    assert_eq!(
        message("sftp://et:pw@h/x", &[]),
        "ETPROX_ROUND_SOURCES: sftp://et@h:22: SFTP logs in with a key, not a password: remove the password from the URL and set ETPROX_SSH_KEY"
    );
    assert_eq!(
        message("sftp://et@h/x", &[("ETPROX_SSH_KEY", key_path)]),
        "ETPROX_SSH_KNOWN_HOSTS: is not set and HOME is unknown: give the known_hosts file that holds the server's key"
    );
    // A key given inline is not a file name; the folder `/~` is the login folder.
    let inline = "-----BEGIN OPENSSH PRIVATE KEY-----";
    let pairs = [
        ("ETPROX_SSH_KEY", inline),
        ("ETPROX_SSH_KNOWN_HOSTS", " /etc/kh "),
        ("ETPROX_SSH_KEY_PASSPHRASE", "pp"),
    ];
    let source = parse("sftp://et@h/~", &pairs).unwrap();
    assert_eq!(source.path, ".");
    assert_eq!(
        source.auth,
        Auth::SshKey {
            private_key: PathBuf::from(inline),
            passphrase: Some(Secret::new("pp")),
            known_hosts: PathBuf::from("/etc/kh"),
        }
    );
    let ca = [("ETPROX_FTPS_CA_FILE", " /etc/ca.pem ")];
    let source = parse("ftps://ftp@h/~/a%20b", &ca).unwrap();
    assert_eq!(source.path, "a b");
    assert_eq!(
        source.auth,
        Auth::Password {
            password: Secret::new("etprox@"),
            ca_file: Some(PathBuf::from("/etc/ca.pem")),
        }
    );
}

#[test]
fn source_ids_are_safe_folder_names_and_distinct() {
    let c = remote(&[
        ("HOME", "/h"),
        (
            "ETPROX_ROUND_SOURCES",
            "ftp://a:b@h/x/y ftp://a:b@h/x_y ftp://a:b@h/../etc",
        ),
    ])
    .unwrap();
    let ids: Vec<String> = c.sources.iter().map(RoundSource::id).collect();
    for id in &ids {
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
        assert!(!id.contains(".."), "{id}");
    }
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn the_end_marker_is_recognised_only_as_the_last_full_line() {
    use super::poller::ends_with_end_marker;
    assert!(ends_with_end_marker(b"x\n# END kills=3\n"));
    assert!(ends_with_end_marker(b"x\r\n# END kills=3\r\n"));
    assert!(!ends_with_end_marker(b"x\n# END kills=3"));
    assert!(!ends_with_end_marker(b"# END kills=3\nkill|1\n"));
}
