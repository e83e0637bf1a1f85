package deployer.traffic;

/** Where shadow outcomes are counted: {@code deployer_shadow_total{model,version,outcome}}. */
public interface ShadowMeter {

    /** @param outcome {@code same}, {@code different}, {@code error}, or {@code dropped} (the queue was full) */
    void shadow(String model, int version, String outcome);
}
