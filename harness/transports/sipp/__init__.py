"""SIPp load runs: scenario templates, the hosts SIPp runs on (local or over SSH/SFTP), and the
reading of its statistics (:mod:`.scenario`, :mod:`.runner`, :mod:`.hosts`, :mod:`.result`)."""
