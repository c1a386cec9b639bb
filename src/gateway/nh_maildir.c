/* nh_maildir.c: being written */
