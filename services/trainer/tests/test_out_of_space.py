"""out_of_space tells a full artifact store from other training failures, through the wrappers that the
writers of a checkpoint put around ENOSPC."""

from __future__ import annotations

import errno
from pathlib import Path

from safetensors import SafetensorError

from tuneway.trainer.worker.out_of_space import out_of_space, out_of_space_message


def _raised(error: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise error from inner
    except BaseException as outer:
        return outer


def test_enospc_is_told_apart_however_it_is_wrapped(tmp_path: Path) -> None:
    enospc = OSError(errno.ENOSPC, "No space left on device")
    assert out_of_space(enospc, tmp_path)
    assert out_of_space(_raised(RuntimeError("saving the checkpoint failed"), enospc), tmp_path)
    safetensors = SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    assert out_of_space(safetensors, tmp_path)
    assert "ENOSPC" in out_of_space_message(safetensors)


def test_other_failures_and_torch_write_errors_with_room_left_are_not(tmp_path: Path) -> None:
    assert not out_of_space(ValueError("nan loss"), tmp_path)
    assert not out_of_space(OSError(errno.EACCES, "Permission denied"), tmp_path)
    # torch's writer loses the errno; with room left in the store it is some other write failure.
    torch_writer = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 862784 vs 862676")
    assert not out_of_space(torch_writer, tmp_path)
