package deployer.store;

/** Where a deployment is in its life: {@code STARTING → READY | FAILED}, {@code READY → STOPPED → STARTING}, {@code READY → RETIRED}. */
public enum State {
    STARTING, READY, FAILED, STOPPED, RETIRED
}
