"""Atomic writes keep the old file on failure and never leave a partial file behind."""

import os

import pytest

from genereg_jax import files


def test_atomic_write_replaces_only_on_success(tmp_path):
  out = tmp_path / "out.tsv"
  out.write_text("old\n")
  with pytest.raises(RuntimeError):
    with files.atomic_write(out) as f:
      f.write("new, half")
      raise RuntimeError("interrupted")
  assert out.read_text() == "old\n"
  assert os.listdir(tmp_path) == ["out.tsv"]
  with files.atomic_write(out) as f:
    f.write("new\n")
  assert out.read_text() == "new\n"
  assert os.listdir(tmp_path) == ["out.tsv"]
  assert (os.stat(out).st_mode & 0o777) == 0o666 & ~_umask()


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def test_atomic_path_and_json(tmp_path):
  with files.atomic_path(tmp_path / "a.bin") as tmp:
    assert os.path.basename(tmp).startswith(".a.bin.") and tmp.endswith(".partial")
    with open(tmp, "wb") as f:
      f.write(b"\x00\x01")
  assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
  files.write_json(tmp_path / "m.json", {"x": 1})
  assert (tmp_path / "m.json").read_text() == '{\n  "x": 1\n}\n'


def test_check_output_path_refuses_the_input(tmp_path):
  vcf = tmp_path / "in.vcf"
  vcf.write_text("x")
  with pytest.raises(ValueError, match="is the input"):
    files.check_output_path(str(tmp_path / "." / "in.vcf"), None, vcf)
  os.symlink(vcf, tmp_path / "link.vcf")
  with pytest.raises(ValueError, match="is the input"):
    files.check_output_path(tmp_path / "link.vcf", vcf)
  files.check_output_path(tmp_path / "out.vcf", vcf)


def test_input_format_error_names_file_and_line():
  error = files.InputFormatError("a.vcf", 12, "POS '1x' is not a number")
  assert str(error) == "a.vcf:12: POS '1x' is not a number"
  assert isinstance(error, ValueError) and error.line == 12
  assert str(files.InputFormatError("a.bed", None, "empty")) == "a.bed: empty"
