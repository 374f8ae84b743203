"""An in-memory cloud for unit tests: emit, run until idle, assert on state.

    cloud = FakeCloud(app)
    cloud.upload("uploads", "cat.png", png_bytes)
    cloud.run_until_idle()
    assert "cat.png" in cloud.objects("thumbnails")
"""

from portside.fake.cloud import FakeCloud

__all__ = ["FakeCloud"]
