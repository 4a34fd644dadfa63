//! Real filesystems for the disk fault tests: a small tmpfs, a disk that
//! fills up; and an ext4 image on a loop device that turns read-only the
//! way ext4 does after an error (`errors=remount-ro`). Both need root
//! (CAP_SYS_ADMIN, as in CI); without it a test fails and says why, it
//! never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Mount {
    point: PathBuf,
    /// The ext4 image, for a loop mount.
    image: Option<PathBuf>,
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {program}: {error} (the disk fault tests need util-linux and e2fsprogs)"
            )
        })
}

fn run_ok(program: &str, args: &[&str]) {
    let output = run(program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}): {}\nThe disk fault tests need root with CAP_SYS_ADMIN (mount, loop devices).",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Mount {
    /// A tmpfs of `size` (as `mount -o size=` takes it) at `point`.
    pub fn tmpfs(point: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(point).unwrap();
        let options = format!("size={size}");
        run_ok(
            "mount",
            &["-t", "tmpfs", "-o", &options, "tmpfs", path(point)],
        );
        Mount {
            point: point.to_owned(),
            image: None,
        }
    }

    /// A fresh 16 MB ext4 image at `image`, mounted at `point` through a
    /// loop device, turning read-only on its first error.
    pub fn ext4(point: &Path, image: &Path) -> Mount {
        std::fs::create_dir_all(point).unwrap();
        std::fs::File::create(image)
            .unwrap()
            .set_len(16 << 20)
            .unwrap();
        run_ok("mkfs.ext4", &["-q", "-F", path(image)]);
        let mount = Mount {
            point: point.to_owned(),
            image: Some(image.to_owned()),
        };
        mount.mount_image();
        mount
    }

    fn mount_image(&self) {
        let image = self.image.as_deref().expect("an image mount");
        run_ok(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                path(image),
                path(&self.point),
            ],
        );
    }

    /// Makes ext4 report an error on this filesystem, as a failing disk
    /// would: the kernel remounts it read-only, and writes through files
    /// already open fail with EROFS.
    pub fn fail_read_only(&self) {
        let source = run("findmnt", &["-n", "-o", "SOURCE", path(&self.point)]);
        let device = String::from_utf8(source.stdout).unwrap();
        let device = device.trim().trim_start_matches("/dev/");
        assert!(device.starts_with("loop"), "not a loop mount: {device:?}");
        let trigger = format!("/sys/fs/ext4/{device}/trigger_fs_error");
        std::fs::write(&trigger, "kruimel fault test")
            .unwrap_or_else(|error| panic!("cannot write {trigger}: {error}"));
    }

    /// What an operator does after such an error: unmount (retried while
    /// something still has a file open), check and repair, mount again.
    pub fn repair_and_remount(&self) {
        let mut last = None;
        for _ in 0..100 {
            let output = run("umount", &[path(&self.point)]);
            if output.status.success() {
                last = None;
                break;
            }
            last = Some(String::from_utf8_lossy(&output.stderr).into_owned());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(last.is_none(), "the disk stayed busy: {last:?}");
        let image = self.image.as_deref().expect("an image mount");
        // e2fsck exits 1 when it corrected errors.
        let checked = run("e2fsck", &["-f", "-y", path(image)]);
        assert!(
            matches!(checked.status.code(), Some(0 | 1)),
            "e2fsck failed: {checked:?}"
        );
        self.mount_image();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazy: a process killed a moment ago may still hold a file.
        let _ = run("umount", &["-l", path(&self.point)]);
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// Fills the filesystem under `dir` with one file until it has no room.
pub fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) if error.raw_os_error() == Some(28) => break,
            Err(error) => panic!("filling {}: {error}", dir.display()),
        }
    }
    filler
}
