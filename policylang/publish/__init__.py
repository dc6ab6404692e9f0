"""Publishing a policy as documentation pages (`policylang docs`)."""
