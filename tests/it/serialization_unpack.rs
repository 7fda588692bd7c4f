//! serialization.md §3.1: an upload is unpacked in a private directory under the data
//! directory's `tmp/`, which is empty again when the request ends, whatever the outcome; hostile
//! entries never write outside it.
use std::collections::BTreeMap;
use std::path::Path;

use ferrobase::serialization::archive::pack;

use crate::both;
use crate::serialization::{export, server_a};
use crate::serialization_import::{import, raw_tar};
use crate::support::TestApp;

/// Every path under `dir`, relative to it.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.expect("entry");
            out.push(
                e.path()
                    .strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string(),
            );
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[track_caller]
fn assert_tmp_empty(t: &TestApp) {
    let tmp = t.data_dir.path().join("tmp");
    assert!(tmp.is_dir(), "no tmp/ in the data directory");
    assert_eq!(listing(&tmp), Vec::<String>::new());
}

/// A tar whose first entry is a symbolic link `x/collections` → `target`, followed by a file
/// under that name.
fn tar_through_symlink(target: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path("x/collections").expect("path");
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_link_name(target).expect("link");
    h.set_size(0);
    h.set_mode(0o777);
    h.set_cksum();
    b.append(&h, std::io::empty()).expect("append");
    let data = b"name: through\n";
    let mut h = tar::Header::new_ustar();
    h.set_path("x/collections/escaped.yaml").expect("path");
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data.as_slice()).expect("append");
    b.into_inner().expect("tar")
}

both!(
    s3_1_uploads_are_unpacked_under_tmp_and_removed_afterwards,
    config = |c: &mut ferrobase::config::Config| c.max_upload_bytes = 1 << 20,
    |t| async move {
        let a = server_a(&t).await;
        let good = export(&t, &a.key, "?dirname=x").await.body;
        // Success.
        let r = import(&t, &a.key, "", Some(("file", &good))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_tmp_empty(&t);
        // Not an archive (422), no source directory (400), a failing entity (400).
        let r = import(&t, &a.key, "", Some(("file", b"plain text"))).await;
        assert_eq!(r.status, 422);
        assert_tmp_empty(&t);
        let mut f = BTreeMap::new();
        f.insert("README.txt".to_string(), b"hello".to_vec());
        let r = import(
            &t,
            &a.key,
            "",
            Some(("file", &pack("top", &f).expect("pack"))),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_tmp_empty(&t);
        let mut f = BTreeMap::new();
        f.insert(
            "collections/cards/ZZZZZZZZZZZZZZZZZZZZZ_bad.yaml".to_string(),
            b"name: Bad\nentity_id: ZZZZZZZZZZZZZZZZZZZZZ\ncollection_id: DoesNotExist\n\
dataset_query:\n  database: Sample Database\n  type: native\n  native:\n    query: select 1\n\
serdes/meta:\n  - id: ZZZZZZZZZZZZZZZZZZZZZ\n    label: bad\n    model: Card\n"
                .to_vec(),
        );
        let r = import(
            &t,
            &a.key,
            "",
            Some(("file", &pack("x", &f).expect("pack"))),
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert_tmp_empty(&t);
        // Too large (413), and a decompression bomb (422).
        let r = import(&t, &a.key, "", Some(("file", &vec![7u8; 2 << 20]))).await;
        assert_eq!(r.status, 413);
        assert_tmp_empty(&t);
        let bomb = crate::serialization_cli::decompression_bomb();
        let r = import(&t, &a.key, "", Some(("file", &bomb))).await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert_tmp_empty(&t);
        // Another import running (409).
        let lock = t
            .app
            .store
            .try_import_lock()
            .await
            .expect("lock")
            .expect("free");
        let r = import(&t, &a.key, "", Some(("file", &good))).await;
        assert_eq!(r.status, 409);
        assert_tmp_empty(&t);
        lock.release().await;
    }
);

both!(
    s26_hostile_entries_never_write_outside_the_unpack_directory,
    |t| async move {
        let a = server_a(&t).await;
        let data_dir = t.data_dir.path();
        let before = listing(data_dir);
        for name in [
            "../../evil.yaml",
            "../evil.yaml",
            "x/../../evil.yaml",
            "/tmp/ferrobase-evil.yaml",
        ] {
            // A harmless file first, so the unpacking has begun when the bad entry comes.
            let mut tarball = raw_tar("x/settings.yaml", b"site-name: Evil\n");
            tarball.truncate(tarball.len() - 1024);
            tarball.extend(raw_tar(name, b"name: evil\n"));
            let r = import(&t, &a.key, "", Some(("file", &tarball))).await;
            assert_eq!(r.status, 422, "{name}: {}", r.text());
            assert_tmp_empty(&t);
        }
        assert!(!Path::new("/tmp/ferrobase-evil.yaml").exists());
        assert!(!data_dir.join("evil.yaml").exists());
        assert!(!data_dir
            .parent()
            .expect("parent")
            .join("evil.yaml")
            .exists());
        let mut after = listing(data_dir);
        after.retain(|p| p != "tmp");
        assert_eq!(after, before);
        // Nothing was loaded: the settings file came first but the archive was refused whole.
        let v = t.get("/api/setting/site-name", &a.admin).await;
        assert_ne!(v.text, "\"Evil\"");
        // A file "through" a symbolic link lands inside the unpack directory, not at the target.
        let outside = tempfile::tempdir().expect("outside");
        let r = import(
            &t,
            &a.key,
            "",
            Some(("file", &tar_through_symlink(outside.path()))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.text().contains("warning: ignored x/collections"),
            "{}",
            r.text()
        );
        assert_eq!(listing(outside.path()), Vec::<String>::new());
        assert_tmp_empty(&t);
    }
);
