package commons.keycloak.organizationgate;

import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticator;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel.Requirement;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/** Registers {@link OrganizationMemberCondition} as "Condition - member of the client's organisation". */
public final class OrganizationMemberConditionFactory implements ConditionalAuthenticatorFactory {

    public static final String PROVIDER_ID = "commons-organization-member";

    /** Same name and meaning as the "negate" option of Keycloak's built-in conditions. */
    static final String NEGATE = "negate";

    private static final Requirement[] REQUIREMENT_CHOICES = { Requirement.REQUIRED, Requirement.DISABLED };

    private static final List<ProviderConfigProperty> CONFIG_PROPERTIES = ProviderConfigurationBuilder.create()
            .property()
            .name(NEGATE)
            .label("Negate output")
            .helpText("Match users who are NOT members of the organization named by the client attribute '"
                    + OrganizationMemberCondition.CLIENT_ORGANIZATION_ATTRIBUTE + "'.")
            .type(ProviderConfigProperty.BOOLEAN_TYPE)
            .defaultValue(false)
            .add()
            .build();

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Condition - member of the client's organization";
    }

    @Override
    public String getHelpText() {
        return "Matches when the user is a member of the organization whose alias is the client attribute '"
                + OrganizationMemberCondition.CLIENT_ORGANIZATION_ATTRIBUTE
                + "'. A client without that attribute, an unknown or disabled organization: not a member.";
    }

    @Override
    public boolean isConfigurable() {
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG_PROPERTIES;
    }

    @Override
    public Requirement[] getRequirementChoices() {
        return REQUIREMENT_CHOICES;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public ConditionalAuthenticator getSingleton() {
        return OrganizationMemberCondition.SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
        // Nothing to configure at the server level.
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        // No other provider to look up at start.
    }

    @Override
    public void close() {
        // Holds no resources.
    }
}
