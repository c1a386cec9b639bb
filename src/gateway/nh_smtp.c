/* nh_smtp.c: being written */
