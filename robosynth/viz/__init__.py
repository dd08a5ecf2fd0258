"""Looking at data: contact sheets and videos of RGB, colourised depth and segmentation (``preview``)."""
