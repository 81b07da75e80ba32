module jobset-ts/bench/webhook-load

go 1.24
